// The audit trail: the hash-chained DynamoDB table (and the alert marks and suite state in it),
// encrypted with its own customer-managed key, which also encrypts the functions' logs.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { AUDIT_TABLE, alertPk, secretPk, statePk, usePk } from '#adapters/audit-table';
import { allowLogsToEncrypt } from './dead-letters.ts';
import { grantKeyVia, grantStatement } from './grants.ts';
import { keepParentLogicalIds } from './logical-ids.ts';
import { accountAdministeredKeyPolicy } from './support.ts';

export interface AuditTrailProps {
  /**
   * An existing audit table to use instead of creating one. It must have the suite's key schema
   * and indexes (lambdas/adapters/audit-table.ts): `pk`/`sk` and the byTime and byEvent indexes.
   *
   * @default - a new table `AuditTable`: on-demand, point-in-time recovery, deletion protection,
   * kept on `cdk destroy`
   */
  readonly table?: dynamodb.ITable;

  /**
   * An existing KMS key for the audit table (when one is created) and the functions' log groups.
   * Its key policy must let CloudWatch Logs use it (see `allowLogsToEncrypt`). Not together
   * with a `table` that has its own key: that key is the one the table is read and written with.
   *
   * @default - the existing table's own key when `table` has one, else a new key `AuditKey`
   * (rotated yearly, kept on `cdk destroy`)
   */
  readonly encryptionKey?: kms.IKey;
}

/** The audit table and its key, with the grants the handlers and readers need. */
export class AuditTrail extends Construct {
  /** The audit trail (and alert de-duplication marks, suite state). */
  readonly table: dynamodb.ITable;
  /** The key of the audit table and of the functions' log groups. */
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AuditTrailProps = {}) {
    super(scope, id);
    keepParentLogicalIds(this);
    if (props.encryptionKey && props.table?.encryptionKey) {
      throw new Error(
        'auditKey and an auditTable with its own encryptionKey are both given: give one (the existing table is read and written with its own key)',
      );
    }
    const stack = Stack.of(this);
    const key =
      props.encryptionKey ??
      props.table?.encryptionKey ??
      new kms.Key(this, 'AuditKey', {
        description: `Encrypts the token-rotation audit trail and function logs of stack ${stack.stackName}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
        policy: accountAdministeredKeyPolicy(),
      });
    allowLogsToEncrypt(key);
    this.key = key;
    this.table = props.table ?? this.createTable(key);
  }

  /** The table and its two indexes. */
  tableArns(): string[] {
    const arn = this.table.tableArn;
    return [
      arn,
      `${arn}/index/${AUDIT_TABLE.byTimeIndex}`,
      `${arn}/index/${AUDIT_TABLE.byEventIndex}`,
    ];
  }

  /** Lets `grantee` read the audit trail (Query and GetItem on the table and its indexes). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DescribeTable'],
      resourceArns: this.tableArns(),
    });
    grantKeyVia(grantee, this.key, 'dynamodb', ['kms:Decrypt']);
    return grant;
  }

  /**
   * What the handlers do to the audit table, and no more. Audit records (SECRET#) are appended
   * with a conditional Put and read back by Query to find the chain's tip; alert marks (ALERT#)
   * are claimed, confirmed and released. Update and Delete are limited to marks
   * (dynamodb:LeadingKeys is the item's partition key), so no function can update or delete an
   * audit record. IAM cannot require PutItem's condition, so a compromised function could still
   * overwrite one with a Put: the hash chain is what reveals that (verify-audit), not IAM.
   */
  grantAppend(grantee: iam.IGrantable): iam.Grant {
    const table = this.table.tableArn;
    const grant = grantStatement(grantee, {
      sid: 'AppendAuditRecordsAndAlertMarks',
      actions: ['dynamodb:PutItem'],
      resources: [table],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [secretPk('*'), alertPk('*')] },
      },
    })
      .combine(
        grantStatement(grantee, {
          sid: 'ReadAuditChainTip',
          actions: ['dynamodb:Query'],
          resources: [table],
        }),
      )
      .combine(
        grantStatement(grantee, {
          sid: 'SettleAlertMarksOnly',
          actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          resources: [table],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [alertPk('*')] } },
        }),
      );
    grantKeyVia(grantee, this.key, 'dynamodb', [
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
    return grant;
  }

  /** GetItem, PutItem and DeleteItem on the suite-state items `names` (STATE#<name>) only. */
  grantSuiteState(grantee: iam.IGrantable, names: string[]): iam.Grant {
    return grantStatement(grantee, {
      sid: 'SuiteStateItems',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resources: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': names.map((n) => statePk(n)) },
      },
    });
  }

  /**
   * The previous tokens' recorded uses (USE#<secret ARN> items, written by consumers' verifiers):
   * `read` is GetItem on every secret's (the sweep); `record` is UpdateItem on those of
   * `secretArns` only (a consumer), never on an audit record.
   */
  grantTokenUses(
    grantee: iam.IGrantable,
    access: 'read' | 'record',
    secretArns: string[] = ['*'],
  ): iam.Grant {
    const grant = grantStatement(grantee, {
      sid: access === 'read' ? 'ReadTokenUses' : 'RecordTokenUses',
      actions: [access === 'read' ? 'dynamodb:GetItem' : 'dynamodb:UpdateItem'],
      resources: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': secretArns.map((arn) => usePk(arn)) },
        // A consumer writes a time and its name, nothing else: no `event` or `day` that would put
        // its items in the outbox or the time index the suite reads.
        ...(access === 'record' && {
          'ForAllValues:StringEquals': {
            'dynamodb:Attributes': [
              AUDIT_TABLE.partitionKey,
              AUDIT_TABLE.sortKey,
              'lastUsedAt',
              'usedBy',
              AUDIT_TABLE.ttlAttribute,
            ],
          },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        }),
      },
    });
    grantKeyVia(
      grantee,
      this.key,
      'dynamodb',
      access === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    );
    return grant;
  }

  /** GetItem and UpdateItem on the emergency revoke's lock items (STATE#revoke) only. */
  grantRevokeLocks(grantee: iam.IGrantable): iam.Grant {
    return grantStatement(grantee, {
      sid: 'RevokeLockItems',
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [statePk('revoke')] } },
    });
  }

  private createTable(key: kms.IKey): dynamodb.Table {
    const table = new dynamodb.Table(this, 'AuditTable', {
      partitionKey: { name: AUDIT_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AUDIT_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: AUDIT_TABLE.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(table).acknowledge({
      id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
      reason:
        'The audit trail has point-in-time recovery (any second of the last 35 days), deletion protection, a retain policy and a hash chain that reveals any rewrite (verify-audit); an organization whose AWS Backup plans select resources by tag covers it there.',
    });
    for (const [indexName, partitionKey] of [
      [AUDIT_TABLE.byTimeIndex, AUDIT_TABLE.byTimePartitionKey],
      [AUDIT_TABLE.byEventIndex, AUDIT_TABLE.byEventPartitionKey],
    ] as const) {
      table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: AUDIT_TABLE.indexSortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }
}
