// A differential check: a scripted sequence of Secrets Manager, DynamoDB and SNS calls, each
// with the result AWS's documentation gives for it, run against whatever endpoint the suite is
// pointed at (the embedded local AWS by default; AWS_ENDPOINT_URL otherwise, a real account
// included). It prints a table of agreements and disagreements and fails on any disagreement,
// so the local AWS is held to the documentation, not to itself.
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { EXTERNAL_ENDPOINT, scaled } from './support/endpoint.ts';

const run = randomUUID().slice(0, 8);
const prefix = `token-rotation-diff/${run}`;
const table = `token-rotation-diff-${run}`;
const DAY = 86_400_000;

let local: LocalAws | undefined;
let sm: SecretsManagerClient;
let ddb: DynamoDBClient;
let sns: SNSClient;

beforeAll(async () => {
  let config = {};
  if (!EXTERNAL_ENDPOINT) {
    local = await startLocalAws();
    config = local.clientConfig;
  }
  // One attempt each: a retried call would hide the answer being checked.
  sm = new SecretsManagerClient({ ...config, maxAttempts: 1 });
  ddb = new DynamoDBClient({ ...config, maxAttempts: 1 });
  sns = new SNSClient({ ...config, maxAttempts: 1 });
}, scaled(60_000));

afterAll(async () => {
  await Promise.allSettled(
    ['a', 'b'].map((s) =>
      sm.send(
        new DeleteSecretCommand({ SecretId: `${prefix}/${s}`, ForceDeleteWithoutRecovery: true }),
      ),
    ),
  );
  await ddb.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
  await local?.stop();
}, scaled(60_000));

/** What AWS documents for one call: success (checked by `check`) or an error's name and status. */
type Expected =
  | { ok: (out: Record<string, unknown>) => string | undefined }
  | { error: string | string[]; status: number };

interface Step {
  call: string;
  /** The documentation the expectation is written from. */
  doc: string;
  send: () => Promise<unknown>;
  expected: Expected;
}

const ok = (check: (out: Record<string, unknown>) => string | undefined = () => undefined) => ({
  ok: check,
});
const fails = (error: string | string[], status = 400) => ({ error, status });
/** A check that fails with `what` unless `cond` holds. */
const must = (cond: boolean, what: string) => (cond ? undefined : what);

/** IDs the script learns or picks as it goes (the version tokens it puts are chosen up front). */
const ids: Record<string, string> = { a2: randomUUID(), a3: randomUUID() };
const stages = async (id: string) =>
  (await sm.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages ?? {};

const SM_API = 'Secrets Manager API reference';
const steps: Step[] = [
  {
    call: 'CreateSecret a',
    doc: `${SM_API}, CreateSecret: returns ARN, Name and the VersionId of the AWSCURRENT version`,
    send: () =>
      sm.send(
        new CreateSecretCommand({
          Name: `${prefix}/a`,
          SecretString: 'v1',
          Tags: [{ Key: 'token-rotation:lifespan', Value: '7d' }],
        }),
      ),
    expected: ok((out) => {
      ids.a1 = String(out.VersionId);
      ids.aArn = String(out.ARN);
      return must(/^arn:aws[\w-]*:secretsmanager:/.test(ids.aArn), `ARN ${out.ARN}`);
    }),
  },
  {
    call: 'CreateSecret a again',
    doc: `${SM_API}, CreateSecret errors: ResourceExistsException, a resource with this ID already exists`,
    send: () => sm.send(new CreateSecretCommand({ Name: `${prefix}/a`, SecretString: 'x' })),
    expected: fails('ResourceExistsException'),
  },
  {
    call: 'GetSecretValue a',
    doc: `${SM_API}, GetSecretValue: without VersionId or VersionStage, the AWSCURRENT version`,
    send: () => sm.send(new GetSecretValueCommand({ SecretId: `${prefix}/a` })),
    expected: ok((out) =>
      must(
        out.SecretString === 'v1' && JSON.stringify(out.VersionStages) === '["AWSCURRENT"]',
        `value/stages ${JSON.stringify(out.VersionStages)}`,
      ),
    ),
  },
  {
    call: 'GetSecretValue by partial ARN',
    doc: `${SM_API}, SecretId: "the ARN or name of the secret"; a partial ARN (without the random suffix) also finds it`,
    send: () => sm.send(new GetSecretValueCommand({ SecretId: ids.aArn!.slice(0, -7) })),
    expected: ok((out) => must(out.SecretString === 'v1', 'value')),
  },
  {
    call: 'GetSecretValue missing secret',
    doc: `${SM_API}, GetSecretValue errors: ResourceNotFoundException`,
    send: () => sm.send(new GetSecretValueCommand({ SecretId: `${prefix}/none` })),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'GetSecretValue missing version',
    doc: `${SM_API}, GetSecretValue errors: ResourceNotFoundException (no such version)`,
    send: () =>
      sm.send(new GetSecretValueCommand({ SecretId: `${prefix}/a`, VersionId: randomUUID() })),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'PutSecretValue a v2',
    doc: `${SM_API}, PutSecretValue: without VersionStages, AWSCURRENT moves to the new version`,
    send: () =>
      sm.send(
        new PutSecretValueCommand({
          SecretId: `${prefix}/a`,
          SecretString: 'v2',
          ClientRequestToken: ids.a2,
        }),
      ),
    expected: ok((out) => must(JSON.stringify(out.VersionStages) === '["AWSCURRENT"]', 'stages')),
  },
  {
    call: 'DescribeSecret a after a put',
    doc: `${SM_API}, PutSecretValue: "automatically moves the staging label AWSPREVIOUS to the version that AWSCURRENT was removed from"`,
    send: () => stages(`${prefix}/a`).then((s) => ({ s })),
    expected: ok(({ s }) => {
      const v = s as Record<string, string[]>;
      return must(
        v[ids.a2!]?.includes('AWSCURRENT') === true && v[ids.a1!]?.includes('AWSPREVIOUS') === true,
        JSON.stringify(v),
      );
    }),
  },
  {
    call: 'PutSecretValue same token, same value',
    doc: `${SM_API}, PutSecretValue: same ClientRequestToken and same data "succeeds but does nothing"`,
    send: () =>
      sm.send(
        new PutSecretValueCommand({
          SecretId: `${prefix}/a`,
          SecretString: 'v2',
          ClientRequestToken: ids.a2,
        }),
      ),
    expected: ok(),
  },
  {
    call: 'PutSecretValue same token, other value',
    doc: `${SM_API}, PutSecretValue: "if the secret data is different, then the operation fails" (ResourceExistsException)`,
    send: () =>
      sm.send(
        new PutSecretValueCommand({
          SecretId: `${prefix}/a`,
          SecretString: 'other',
          ClientRequestToken: ids.a2,
        }),
      ),
    expected: fails('ResourceExistsException'),
  },
  {
    call: 'PutSecretValue string and binary',
    doc: `${SM_API}, PutSecretValue: SecretString or SecretBinary "but not both" (InvalidParameterException)`,
    send: () =>
      sm.send(
        new PutSecretValueCommand({
          SecretId: `${prefix}/a`,
          SecretString: 'x',
          SecretBinary: Buffer.from('x'),
        }),
      ),
    expected: fails('InvalidParameterException'),
  },
  {
    call: 'PutSecretValue AWSPENDING v3',
    doc: `${SM_API}, PutSecretValue: VersionStages given, AWSCURRENT stays where it is`,
    send: () =>
      sm.send(
        new PutSecretValueCommand({
          SecretId: `${prefix}/a`,
          SecretString: 'v3',
          ClientRequestToken: ids.a3,
          VersionStages: ['AWSPENDING'],
        }),
      ),
    expected: ok((out) => must(JSON.stringify(out.VersionStages) === '["AWSPENDING"]', 'stages')),
  },
  {
    call: 'GetSecretValue AWSPENDING',
    doc: `${SM_API}, GetSecretValue: VersionStage selects the version with that label`,
    send: () =>
      sm.send(new GetSecretValueCommand({ SecretId: `${prefix}/a`, VersionStage: 'AWSPENDING' })),
    expected: ok((out) => must(out.SecretString === 'v3', 'value')),
  },
  {
    call: 'GetSecretValue AWSCURRENT still v2',
    doc: `${SM_API}, PutSecretValue: a put with VersionStages does not move AWSCURRENT`,
    send: () => sm.send(new GetSecretValueCommand({ SecretId: `${prefix}/a` })),
    expected: ok((out) => must(out.SecretString === 'v2', 'value')),
  },
  {
    call: 'RotateSecret without a function',
    doc: `${SM_API}, RotateSecret: a rotation function is required (InvalidRequestException, not valid for the secret's state)`,
    send: () => sm.send(new RotateSecretCommand({ SecretId: `${prefix}/a` })),
    expected: fails('InvalidRequestException'),
  },
  {
    call: 'UpdateSecretVersionStage without RemoveFromVersionId',
    doc: `${SM_API}, UpdateSecretVersionStage: a label attached to another version must be named in RemoveFromVersionId (InvalidParameterException)`,
    send: () =>
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: `${prefix}/a`,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: ids.a3,
        }),
      ),
    expected: fails('InvalidParameterException'),
  },
  {
    call: 'UpdateSecretVersionStage AWSCURRENT to v3',
    doc: `${SM_API}, UpdateSecretVersionStage: moves the label; AWSPREVIOUS follows AWSCURRENT's old version`,
    send: () =>
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: `${prefix}/a`,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: ids.a3,
          RemoveFromVersionId: ids.a2,
        }),
      ),
    expected: ok(),
  },
  {
    call: 'DescribeSecret a after the move',
    doc: 'User guide, rotate-secrets_how.html and RotateSecret: AWSPENDING is removed, or left on the AWSCURRENT version (both finished)',
    send: () => stages(`${prefix}/a`).then((s) => ({ s })),
    expected: ok(({ s }) => {
      const v = s as Record<string, string[]>;
      const pendingElsewhere = Object.entries(v).some(
        ([id, l]) => l.includes('AWSPENDING') && id !== ids.a3,
      );
      return must(
        v[ids.a3!]?.includes('AWSCURRENT') === true &&
          v[ids.a2!]?.includes('AWSPREVIOUS') === true &&
          !pendingElsewhere,
        JSON.stringify(v),
      );
    }),
  },
  {
    call: 'UpdateSecretVersionStage to a missing version',
    doc: `${SM_API}, UpdateSecretVersionStage errors: ResourceNotFoundException`,
    send: () =>
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: `${prefix}/a`,
          VersionStage: 'custom',
          MoveToVersionId: randomUUID(),
        }),
      ),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'UpdateSecretVersionStage on a missing secret',
    doc: `${SM_API}, UpdateSecretVersionStage errors: ResourceNotFoundException`,
    send: () =>
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: `${prefix}/none`,
          VersionStage: 'custom',
          MoveToVersionId: randomUUID(),
        }),
      ),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'ListSecretVersionIds a',
    doc: `${SM_API}, ListSecretVersionIds: without IncludeDeprecated, only versions with a label (the first version, unlabelled now, is deprecated)`,
    send: () => sm.send(new ListSecretVersionIdsCommand({ SecretId: `${prefix}/a` })),
    expected: ok((out) =>
      must(
        (out.Versions as unknown[]).length === 2,
        `${(out.Versions as unknown[]).length} versions`,
      ),
    ),
  },
  {
    call: 'ListSecretVersionIds missing secret',
    doc: `${SM_API}, ListSecretVersionIds errors: ResourceNotFoundException`,
    send: () => sm.send(new ListSecretVersionIdsCommand({ SecretId: `${prefix}/none` })),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'TagResource a',
    doc: `${SM_API}, TagResource: adds or replaces tags`,
    send: () =>
      sm.send(
        new TagResourceCommand({ SecretId: `${prefix}/a`, Tags: [{ Key: 'team', Value: 'x' }] }),
      ),
    expected: ok(),
  },
  {
    call: 'TagResource missing secret',
    doc: `${SM_API}, TagResource errors: ResourceNotFoundException`,
    send: () =>
      sm.send(
        new TagResourceCommand({ SecretId: `${prefix}/none`, Tags: [{ Key: 'k', Value: 'v' }] }),
      ),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'UntagResource a',
    doc: `${SM_API}, UntagResource: removes the named tags`,
    send: () => sm.send(new UntagResourceCommand({ SecretId: `${prefix}/a`, TagKeys: ['team'] })),
    expected: ok(),
  },
  {
    call: 'DescribeSecret a tags',
    doc: `${SM_API}, DescribeSecret: Tags as they are now`,
    send: () => sm.send(new DescribeSecretCommand({ SecretId: `${prefix}/a` })),
    expected: ok((out) =>
      must(
        JSON.stringify(out.Tags) === '[{"Key":"token-rotation:lifespan","Value":"7d"}]',
        JSON.stringify(out.Tags),
      ),
    ),
  },
  {
    call: 'ListSecrets MaxResults 101',
    doc: `${SM_API}, ListSecrets: MaxResults between 1 and 100 (ValidationException)`,
    send: () => sm.send(new ListSecretsCommand({ MaxResults: 101 })),
    expected: fails(['ValidationException', 'InvalidParameterException']),
  },
  {
    call: 'ListSecrets a forged NextToken',
    doc: `${SM_API}, ListSecrets errors: InvalidNextTokenException`,
    send: () => sm.send(new ListSecretsCommand({ NextToken: 'not-a-token-we-issued' })),
    expected: fails(['InvalidNextTokenException', 'ValidationException']),
  },
  {
    call: 'ListSecrets by name, one page',
    doc: `${SM_API}, ListSecrets: eventually consistent; a page may be short or empty with NextToken`,
    send: () =>
      sm.send(
        new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 1 }),
      ),
    expected: ok((out) => must((out.SecretList as unknown[]).length <= 1, 'more than MaxResults')),
  },
  {
    call: 'CreateSecret b',
    doc: `${SM_API}, CreateSecret`,
    send: () => sm.send(new CreateSecretCommand({ Name: `${prefix}/b`, SecretString: 'b1' })),
    expected: ok(),
  },
  {
    call: 'DeleteSecret force and window',
    doc: `${SM_API}, DeleteSecret: "You can't use both this parameter and RecoveryWindowInDays" (InvalidParameterException)`,
    send: () =>
      sm.send(
        new DeleteSecretCommand({
          SecretId: `${prefix}/b`,
          ForceDeleteWithoutRecovery: true,
          RecoveryWindowInDays: 7,
        }),
      ),
    expected: fails('InvalidParameterException'),
  },
  {
    call: 'DeleteSecret b (default window)',
    doc: `${SM_API}, DeleteSecret: "by default Secrets Manager uses a 30 day recovery window"`,
    send: () => sm.send(new DeleteSecretCommand({ SecretId: `${prefix}/b` })),
    expected: ok((out) => {
      const days = ((out.DeletionDate as Date).getTime() - Date.now()) / DAY;
      // The endpoint's clock may differ from ours (the local one starts at our now).
      return must(days > 29 && days < 31, `DeletionDate ${days.toFixed(2)} days out`);
    }),
  },
  {
    call: 'GetSecretValue b while scheduled',
    doc: `${SM_API}, GetSecretValue errors: InvalidRequestException, "the secret is scheduled for deletion"`,
    send: () => sm.send(new GetSecretValueCommand({ SecretId: `${prefix}/b` })),
    expected: fails('InvalidRequestException'),
  },
  {
    call: 'PutSecretValue b while scheduled',
    doc: `${SM_API}, PutSecretValue errors: InvalidRequestException (secret scheduled for deletion)`,
    send: () => sm.send(new PutSecretValueCommand({ SecretId: `${prefix}/b`, SecretString: 'b2' })),
    expected: fails('InvalidRequestException'),
  },
  {
    call: 'DescribeSecret b while scheduled',
    doc: `${SM_API}, DescribeSecret: DeletedDate set while deletion is scheduled`,
    send: () => sm.send(new DescribeSecretCommand({ SecretId: `${prefix}/b` })),
    expected: ok((out) => must(out.DeletedDate instanceof Date, 'no DeletedDate')),
  },
  {
    call: 'DeleteSecret b again',
    doc: `${SM_API}, DeleteSecret errors: InvalidRequestException (already scheduled for deletion)`,
    send: () => sm.send(new DeleteSecretCommand({ SecretId: `${prefix}/b` })),
    expected: fails('InvalidRequestException'),
  },
  {
    call: 'RestoreSecret b',
    doc: `${SM_API}, RestoreSecret: cancels the scheduled deletion`,
    send: () => sm.send(new RestoreSecretCommand({ SecretId: `${prefix}/b` })),
    expected: ok(),
  },
  {
    call: 'GetSecretValue b after restore',
    doc: `${SM_API}, RestoreSecret: "makes the secret accessible" again`,
    send: () => sm.send(new GetSecretValueCommand({ SecretId: `${prefix}/b` })),
    expected: ok((out) => must(out.SecretString === 'b1', 'value')),
  },
  {
    call: 'RestoreSecret missing secret',
    doc: `${SM_API}, RestoreSecret errors: ResourceNotFoundException`,
    send: () => sm.send(new RestoreSecretCommand({ SecretId: `${prefix}/none` })),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'DeleteSecret b without recovery',
    doc: `${SM_API}, DeleteSecret: ForceDeleteWithoutRecovery deletes at once (asynchronously)`,
    send: () =>
      sm.send(
        new DeleteSecretCommand({ SecretId: `${prefix}/b`, ForceDeleteWithoutRecovery: true }),
      ),
    expected: ok(),
  },
  {
    call: 'DeleteSecret missing, no force',
    doc: `${SM_API}, DeleteSecret errors: ResourceNotFoundException`,
    send: () => sm.send(new DeleteSecretCommand({ SecretId: `${prefix}/never` })),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'DeleteSecret missing, forced',
    doc: `${SM_API}, DeleteSecret: deletion is an asynchronous background process; AWS answers a forced delete of a missing secret with success`,
    send: () =>
      sm.send(
        new DeleteSecretCommand({ SecretId: `${prefix}/never`, ForceDeleteWithoutRecovery: true }),
      ),
    expected: ok(),
  },
  // ---- DynamoDB ----
  {
    call: 'DynamoDB CreateTable',
    doc: 'DynamoDB API reference, CreateTable: status CREATING, then ACTIVE',
    send: async () => {
      await ddb.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
      await waitUntilTableExists({ client: ddb, maxWaitTime: scaled(120) }, { TableName: table });
      return ddb.send(new DescribeTableCommand({ TableName: table }));
    },
    expected: ok((out) =>
      must(
        (out.Table as { TableStatus?: string }).TableStatus === 'ACTIVE',
        JSON.stringify((out.Table as { TableStatus?: string }).TableStatus),
      ),
    ),
  },
  {
    call: 'DynamoDB PutItem',
    doc: 'DynamoDB API reference, PutItem',
    send: () =>
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: 'secret#a' }, sk: { S: '0001' }, n: { N: '1' } },
        }),
      ),
    expected: ok(),
  },
  {
    call: 'DynamoDB PutItem if absent, present',
    doc: 'DynamoDB API reference, PutItem errors: ConditionalCheckFailedException (400)',
    send: () =>
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: 'secret#a' }, sk: { S: '0001' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    expected: fails(ConditionalCheckFailedException.name),
  },
  {
    call: 'DynamoDB UpdateItem ADD',
    doc: 'DynamoDB API reference, UpdateItem: ADD to a number; ReturnValues UPDATED_NEW',
    send: () =>
      ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 'secret#a' }, sk: { S: '0001' } },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    expected: ok((out) =>
      must((out.Attributes as { n?: { N?: string } }).n?.N === '2', JSON.stringify(out.Attributes)),
    ),
  },
  {
    call: 'DynamoDB GetItem',
    doc: 'DynamoDB API reference, GetItem (ConsistentRead: the write just made is seen)',
    send: () =>
      ddb.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: { S: 'secret#a' }, sk: { S: '0001' } },
          ConsistentRead: true,
        }),
      ),
    expected: ok((out) => must((out.Item as { n?: { N?: string } }).n?.N === '2', 'item')),
  },
  {
    call: 'DynamoDB Query',
    doc: 'DynamoDB API reference, Query: items of one partition key, by sort key',
    send: () =>
      ddb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'secret#a' } },
          ConsistentRead: true,
        }),
      ),
    expected: ok((out) => must(out.Count === 1, `Count ${out.Count}`)),
  },
  {
    call: 'DynamoDB Query on a non-key attribute',
    doc: 'DynamoDB API reference, Query errors: ValidationException (key condition must name the key)',
    send: () =>
      ddb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'n = :n',
          ExpressionAttributeValues: { ':n': { N: '1' } },
        }),
      ),
    expected: fails('ValidationException'),
  },
  {
    call: 'DynamoDB GetItem on a missing table',
    doc: 'DynamoDB API reference, GetItem errors: ResourceNotFoundException (400)',
    send: () =>
      ddb.send(
        new GetItemCommand({ TableName: `${table}-none`, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }),
      ),
    expected: fails('ResourceNotFoundException'),
  },
  {
    call: 'DynamoDB DeleteItem',
    doc: 'DynamoDB API reference, DeleteItem',
    send: () =>
      ddb.send(
        new DeleteItemCommand({
          TableName: table,
          Key: { pk: { S: 'secret#a' }, sk: { S: '0001' } },
        }),
      ),
    expected: ok(),
  },
  // ---- SNS ----
  {
    call: 'SNS CreateTopic',
    doc: 'SNS API reference, CreateTopic: returns the TopicArn',
    send: () => sns.send(new CreateTopicCommand({ Name: `token-rotation-diff-${run}` })),
    expected: ok((out) => {
      ids.topic = String(out.TopicArn);
      return must(/^arn:aws[\w-]*:sns:/.test(ids.topic), ids.topic);
    }),
  },
  {
    call: 'SNS CreateTopic again',
    doc: 'SNS API reference, CreateTopic: "idempotent; if the topic exists, its ARN is returned"',
    send: () => sns.send(new CreateTopicCommand({ Name: `token-rotation-diff-${run}` })),
    expected: ok((out) => must(out.TopicArn === ids.topic, String(out.TopicArn))),
  },
  {
    call: 'SNS GetTopicAttributes',
    doc: 'SNS API reference, GetTopicAttributes: TopicArn among the attributes',
    send: () => sns.send(new GetTopicAttributesCommand({ TopicArn: ids.topic })),
    expected: ok((out) =>
      must((out.Attributes as Record<string, string>).TopicArn === ids.topic, 'TopicArn'),
    ),
  },
  {
    call: 'SNS Publish',
    doc: 'SNS API reference, Publish: returns a MessageId',
    send: () =>
      sns.send(new PublishCommand({ TopicArn: ids.topic, Subject: 'check', Message: 'hello' })),
    expected: ok((out) => must(typeof out.MessageId === 'string', 'MessageId')),
  },
  {
    call: 'SNS Publish, Subject of 101 characters',
    doc: 'SNS API reference, Publish: Subject "must be less than 100 characters long" (InvalidParameter)',
    send: () =>
      sns.send(new PublishCommand({ TopicArn: ids.topic, Subject: 's'.repeat(101), Message: 'x' })),
    expected: fails(['InvalidParameterException', 'InvalidParameter']),
  },
  {
    call: 'SNS Publish to a missing topic',
    doc: 'SNS API reference, Publish errors: NotFound (404)',
    send: () => sns.send(new PublishCommand({ TopicArn: `${ids.topic}-none`, Message: 'x' })),
    expected: fails(['NotFoundException', 'NotFound'], 404),
  },
  {
    call: 'SNS DeleteTopic',
    doc: 'SNS API reference, DeleteTopic',
    send: () => sns.send(new DeleteTopicCommand({ TopicArn: ids.topic })),
    expected: ok(),
  },
];

interface Outcome {
  call: string;
  expected: string;
  got: string;
  agrees: boolean;
  doc: string;
}

async function runStep(step: Step): Promise<Outcome> {
  const exp = step.expected;
  const expected =
    'ok' in exp ? 'success' : `${[exp.error].flat().join('|')} (${exp.status}, client fault)`;
  try {
    const out = (await step.send()) as Record<string, unknown>;
    if (!('ok' in exp)) return { ...step, expected, got: 'success', agrees: false };
    const problem = exp.ok(out);
    return {
      ...step,
      expected,
      got: problem ? `success, but ${problem}` : 'success',
      agrees: !problem,
    };
  } catch (error) {
    const e = error as {
      name?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
      $fault?: string;
    };
    const got = `${e.name} (${e.$metadata?.httpStatusCode}, ${e.$fault} fault): ${e.message?.slice(0, 80)}`;
    if ('ok' in exp) return { ...step, expected, got, agrees: false };
    const agrees =
      [exp.error].flat().includes(e.name ?? '') &&
      e.$metadata?.httpStatusCode === exp.status &&
      e.$fault === 'client' &&
      typeof e.message === 'string' &&
      e.message.length > 0;
    return { ...step, expected, got, agrees };
  }
}

it(
  `agrees with AWS's documentation on ${steps.length} Secrets Manager, DynamoDB and SNS calls`,
  async () => {
    expect(steps.length).toBeGreaterThanOrEqual(50);
    const outcomes: Outcome[] = [];
    for (const step of steps) outcomes.push(await runStep(step));

    const width = Math.max(...outcomes.map((o) => o.call.length));
    const lines = outcomes.map(
      (o, i) =>
        `${String(i + 1).padStart(2)} ${o.agrees ? 'agree   ' : 'DISAGREE'} ${o.call.padEnd(width)}  expected ${o.expected}; got ${o.got}`,
    );
    const disagreements = outcomes.filter((o) => !o.agrees);
    console.log(
      `differential check against ${EXTERNAL_ENDPOINT ?? `the embedded local AWS (${local?.endpoint})`}: ${outcomes.length - disagreements.length} agree, ${disagreements.length} disagree\n${lines.join('\n')}`,
    );
    expect(
      disagreements.map((o) => `${o.call}: expected ${o.expected} (${o.doc}); got ${o.got}`),
    ).toEqual([]);
  },
  scaled(300_000),
);
