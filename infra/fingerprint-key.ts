// The token index's fingerprint key (SPEC "Environment isolation", #domain/keyed-fingerprint): a
// Secrets Manager secret the stack generates at deploy, 64 characters, encrypted with the audit
// key, kept on `cdk destroy` (the retained audit table's fingerprints mean nothing without it).
// It is never rotated by the suite's own rotation, nor by Secrets Manager: a new key would orphan
// every fingerprint in the index, and the key is not a credential to anything. Readable only by
// the functions that index tokens (the sweep, the rotation, the revoke functions) and by whom
// `grantScan` names.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  AUDIT_TABLE,
  fingerprintPk,
  statePk,
  TOKEN_INDEX_ATTRIBUTES,
  TOKEN_INDEX_STATE,
} from '#adapters/audit-table';
import { grantKeyVia, grantStatement } from './grants.ts';
import { output } from './support.ts';

export interface FingerprintKeyProps {
  /** The audit table, which holds the token index. */
  readonly table: dynamodb.ITable;
  /** The audit key: encrypts the key secret and the table. */
  readonly key: kms.IKey;
}

export class FingerprintKey extends Construct {
  readonly secret: secretsmanager.Secret;
  private readonly table: dynamodb.ITable;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: FingerprintKeyProps) {
    super(scope, id);
    this.table = props.table;
    this.key = props.key;
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'token-rotation: the keyed-fingerprint key of the token index (HMAC-SHA256). Never rotated: a new key would orphan every fingerprint.',
      encryptionKey: props.key,
      // Every printable character but space (GenerateSecretString's default set, nothing excluded).
      generateSecretString: { passwordLength: 64 },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    output(
      this,
      'FingerprintKeySecretArn',
      this.secret.secretArn,
      'The keyed-fingerprint key of the token index (token-rotation scan reads it)',
    );
    const reason =
      'The fingerprint key is not a credential: it names tokens in the token index (HMAC-SHA256), and rotating it would orphan every fingerprint the index holds. It is generated at deploy, readable only by the functions that index tokens and grantScan grantees, and encrypted with the audit key.';
    for (const id of [
      'AwsSolutions-SMG4',
      'NIST.800.53.R5-SecretsManagerRotationEnabled',
      'Serverless-SecretsManagerRotationEnabled',
    ]) {
      Validations.of(this.secret).acknowledge({ id, reason });
    }
  }

  /**
   * For the functions that index tokens (the sweep): read the key; record and look up index items
   * (UpdateItem and Query on FP# partitions, UpdateItem limited to the index's attributes, so no
   * item can carry `day` or `event`); remember what was indexed (STATE#token-index).
   */
  grantIndex(grantee: iam.IGrantable): iam.Grant {
    return this.grantRecord(grantee)
      .combine(this.grantLookup(grantee))
      .combine(
        this.grantRemembered(grantee, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']),
      );
  }

  /**
   * For the functions that revoke in an emergency: read the key and record each token they
   * revoked (UpdateItem on FP# items, the index's attributes only); read what the sweep
   * remembered of a secret's versions (GetItem on STATE#token-index). No Query, no PutItem.
   */
  grantRecordRevokes(grantee: iam.IGrantable): iam.Grant {
    return this.grantRecord(grantee).combine(this.grantRemembered(grantee, ['dynamodb:GetItem']));
  }

  /**
   * For the rotation, which indexes the token it mints: read the key with AWSCURRENT in one
   * BatchGetSecretValue (an action with no resource-level permissions, so "*"; each value it
   * returns still needs GetSecretValue on its secret) and record index items (UpdateItem on FP#
   * items, the index's attributes only, inside the audit's transaction).
   */
  grantMint(grantee: iam.IGrantable): iam.Grant {
    return this.grantRecord(grantee).combine(
      grantStatement(grantee, {
        sid: 'ReadTheKeyWithTheCurrentValue',
        actions: ['secretsmanager:BatchGetSecretValue'],
        resources: ['*'],
      }),
    );
  }

  /** Read the key; UpdateItem on FP# items, limited to the index's attributes. */
  private grantRecord(grantee: iam.IGrantable): iam.Grant {
    this.secret.grantRead(grantee);
    grantKeyVia(grantee, this.key, 'dynamodb', [
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
    return grantStatement(grantee, {
      sid: 'RecordTokensInTheIndex',
      actions: ['dynamodb:UpdateItem'],
      resources: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [fingerprintPk('*')] },
        'ForAllValues:StringEquals': {
          'dynamodb:Attributes': [
            AUDIT_TABLE.partitionKey,
            AUDIT_TABLE.sortKey,
            ...TOKEN_INDEX_ATTRIBUTES,
          ],
        },
      },
    });
  }

  /** `actions` on the sweep's memory of what it indexed (STATE#token-index) only. */
  private grantRemembered(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    return grantStatement(grantee, {
      sid: 'RememberIndexedVersions',
      actions,
      resources: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [statePk(TOKEN_INDEX_STATE)] },
      },
    });
  }

  /** For people who scan (`token-rotation scan`): read the key and Query the index, nothing more. */
  grantScan(grantee: iam.IGrantable): iam.Grant {
    this.secret.grantRead(grantee);
    grantKeyVia(grantee, this.key, 'dynamodb', ['kms:Decrypt']);
    return this.grantLookup(grantee);
  }

  private grantLookup(grantee: iam.IGrantable): iam.Grant {
    return grantStatement(grantee, {
      sid: 'LookTokensUpInTheIndex',
      actions: ['dynamodb:Query'],
      resources: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [fingerprintPk('*')] } },
    });
  }
}
