import { Agent } from 'node:http';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalClock } from './clock.ts';
import { type LocalAws, startLocalAws } from './index.ts';

let aws: LocalAws;
beforeEach(async () => {
  aws = await startLocalAws({ clock: '2025-03-10T05:00:00Z' });
});
afterEach(() => aws.stop());

describe('the local AWS endpoint', () => {
  it('serves DynamoDB through dynalite on the same endpoint', async () => {
    const dynamo = new DynamoDBClient(aws.clientConfig);
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'audit',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );

    await dynamo.send(
      new PutItemCommand({ TableName: 'audit', Item: { pk: { S: 'a' }, n: { N: '1' } } }),
    );
    const item = await dynamo.send(
      new GetItemCommand({ TableName: 'audit', Key: { pk: { S: 'a' } } }),
    );

    expect(item.Item).toEqual({ pk: { S: 'a' }, n: { N: '1' } });
    dynamo.destroy();
  });

  it('reaches clients configured only by the standard environment variables', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, aws.env);
    try {
      const sm = new SecretsManagerClient({});
      await sm.send(new CreateSecretCommand({ Name: 'via-env', SecretString: 'x' }));
      expect((await sm.send(new GetSecretValueCommand({ SecretId: 'via-env' }))).SecretString).toBe(
        'x',
      );
      sm.destroy();
    } finally {
      process.env = saved;
    }
  });

  it("keeps a client's connection open between requests, as AWS's endpoints do", async () => {
    // Prepare: the SDK's own keep-alive agent, counting the connections it opens.
    const agent = new Agent({ keepAlive: true });
    let opened = 0;
    const connect = agent.createConnection.bind(agent);
    agent.createConnection = ((...args: Parameters<typeof connect>) => {
      opened++;
      return connect(...args);
    }) as typeof agent.createConnection;
    const sm = new SecretsManagerClient({
      ...aws.clientConfig,
      requestHandler: { httpAgent: agent },
    });

    // Act
    for (let i = 0; i < 5; i++) await sm.send(new ListSecretsCommand({}));

    // Assess: one connection, reused (a Node.js client drops a socket whose server announces a
    // keep-alive timeout of one second or less, and opens a new one for every request).
    expect(opened).toBe(1);
    agent.destroy();
  });

  it('fails a service it does not emulate with an error naming it', async () => {
    // SSM: a service the suite uses only in AWS (the runbook), never emulated here.
    const ssm = new SSMClient({ ...aws.clientConfig, maxAttempts: 1 });

    await expect(ssm.send(new GetParameterCommand({ Name: 'any' }))).rejects.toMatchObject({
      message: expect.stringContaining("'ssm'"),
    });
    ssm.destroy();
  });

  it('routes a service added later to its handler', async () => {
    aws.addService('sts', (_req, res, caller) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::${aws.accountId}:user/local</Arn><UserId>${caller.accessKeyId}</UserId><Account>${aws.accountId}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`,
      );
    });
    const sts = new STSClient(aws.clientConfig);

    const identity = await sts.send(new GetCallerIdentityCommand({}));

    expect(identity).toMatchObject({
      Account: aws.accountId,
      UserId: aws.clientConfig.credentials.accessKeyId,
    });
    sts.destroy();
  });
});

describe('LocalClock', () => {
  it('stops at each due timer on the way, in order, with the clock reading that moment', async () => {
    const clock = new LocalClock('2025-03-10T00:00:00Z');
    const seen: string[] = [];
    clock.every(
      15 * 60_000,
      (at) => void seen.push(`${at.toISOString()} ${clock.now().toISOString()}`),
    );

    await clock.advance(45 * 60_000);

    expect(seen).toEqual([
      '2025-03-10T00:15:00.000Z 2025-03-10T00:15:00.000Z',
      '2025-03-10T00:30:00.000Z 2025-03-10T00:30:00.000Z',
      '2025-03-10T00:45:00.000Z 2025-03-10T00:45:00.000Z',
    ]);
  });

  it('goes back without running anything, and fails to advance backwards', async () => {
    const clock = new LocalClock('2025-03-10T00:00:00Z');
    let runs = 0;
    clock.every(60_000, () => void runs++);

    await clock.set('2025-03-09T00:00:00Z');

    expect(clock.now()).toEqual(new Date('2025-03-09T00:00:00Z'));
    expect(runs).toBe(0);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('the event bus', () => {
  it('delivers only the events a listener asked for, and waits for slow listeners on idle', async () => {
    const sm = new SecretsManagerClient(aws.clientConfig);
    const got: string[] = [];
    aws.events.listen(
      async (event) => {
        await new Promise((resolve) => setImmediate(resolve));
        got.push(event.detail.eventName);
      },
      { eventName: ['TagResource'] },
    );

    await sm.send(
      new CreateSecretCommand({ Name: 's', SecretString: 'x', Tags: [{ Key: 'a', Value: 'b' }] }),
    );
    await aws.idle();

    expect(got).toEqual([]);
    expect(aws.events.named('CreateSecret')).toHaveLength(1);
    sm.destroy();
  });
});
