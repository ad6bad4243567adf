// The local Lambda service through the real SDK client: deploy, invoke, errors as Lambda returns
// them, timeouts, separate environments per function, logs, and Secrets Manager invoking by ARN.
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';
import { readZip, writeZip } from './zip.ts';

let aws: LocalAws;
let lambda: LambdaClient;

beforeAll(async () => {
  aws = await startLocalAws({ secretsManager: { pendingAfterRotation: 'removed' } });
  aws.iam.createRole('test');
  lambda = new LambdaClient(aws.clientConfig);
});
afterAll(() => aws.stop());

const ROLE = 'arn:aws:iam::123456789012:role/test';
const decode = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('utf8');

/** Deploys an ESM handler module given as source text. */
async function deploy(
  name: string,
  source: string,
  options: { variables?: Record<string, string>; timeout?: number } = {},
) {
  return lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: writeZip({ 'index.mjs': source }) },
      ...(options.timeout && { Timeout: options.timeout }),
      ...(options.variables && { Environment: { Variables: options.variables } }),
    }),
  );
}

async function invoke(name: string, event: unknown, type?: 'Event') {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: name,
      Payload: Buffer.from(JSON.stringify(event)),
      LogType: 'Tail',
      ...(type && { InvocationType: type }),
    }),
  );
  return {
    status: out.StatusCode,
    error: out.FunctionError,
    payload: decode(out.Payload),
    tail: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'),
  };
}

describe('zip', () => {
  it('reads back what it wrote, and refuses an archive whose content was altered', () => {
    // Prepare
    const files = {
      'index.mjs': 'export const handler = () => 1;\n',
      'lib/a.txt': 'x'.repeat(5000),
    };
    const zip = writeZip(files);
    const damaged = Buffer.from(zip);
    damaged[40] = damaged[40]! ^ 0xff; // inside the first entry's compressed data

    // Act
    const read = readZip(zip);

    // Assess
    expect(Object.fromEntries([...read].map(([k, v]) => [k, v.toString('utf8')]))).toEqual(files);
    expect(() => readZip(damaged)).toThrow(/corrupt|invalid|incorrect/i);
    expect(() => readZip(Buffer.from('not a zip'))).toThrow(/not a zip archive/);
  });
});

describe('local Lambda', () => {
  it('deploys a function and answers RequestResponse invokes with the handler result', async () => {
    // Prepare
    const created = await deploy(
      'echo',
      'export const handler = async (event, context) => ({ got: event, name: context.functionName, region: process.env.AWS_REGION });',
    );

    // Act
    const result = await invoke('echo', { hello: 'world' });
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: created.FunctionArn }));

    // Assess
    expect(created).toMatchObject({
      FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:echo',
      State: 'Active',
      Timeout: 3,
    });
    expect(result).toMatchObject({ status: 200, error: undefined });
    expect(JSON.parse(result.payload)).toEqual({
      got: { hello: 'world' },
      name: 'echo',
      region: 'us-east-1',
    });
    expect(got.Configuration?.Handler).toBe('index.handler');
  });

  it('returns a handler error as Lambda does: 200, FunctionError Unhandled, errorType, errorMessage and trace', async () => {
    // Prepare
    await deploy(
      'thrower',
      "export const handler = async () => { console.log('about to fail'); const e = new Error('issuer said no'); e.name = 'IssuerError'; throw e; };",
    );

    // Act
    const result = await invoke('thrower', {});

    // Assess
    expect(result).toMatchObject({ status: 200, error: 'Unhandled' });
    expect(JSON.parse(result.payload)).toMatchObject({
      errorType: 'IssuerError',
      errorMessage: 'issuer said no',
      trace: expect.arrayContaining([expect.stringContaining('IssuerError: issuer said no')]),
    });
    expect(result.tail).toMatch(/START RequestId: .*about to fail.*Invoke Error.*END RequestId/s);
  });

  it('fails an invocation that runs past its timeout, and the next one starts fresh', async () => {
    // Prepare
    await deploy(
      'sleeper',
      'let calls = 0; export const handler = async (event) => { calls++; if (event.hang) await new Promise(() => setInterval(() => {}, 1000)); return calls; };',
      { timeout: 1 },
    );

    // Act
    const first = await invoke('sleeper', {});
    const hung = await invoke('sleeper', { hang: true });
    const after = await invoke('sleeper', {});

    // Assess
    expect(first.payload).toBe('1');
    expect(hung.error).toBe('Unhandled');
    expect(JSON.parse(hung.payload).errorMessage).toMatch(/Task timed out after 1\.00 seconds/);
    expect(after.payload).toBe('1'); // a new execution environment: module state is new
  });

  it("gives each function its own environment variables, and UpdateFunctionConfiguration changes only that function's", async () => {
    // Prepare
    const source = 'export const handler = async () => process.env.ISSUER_URL ?? null;';
    await deploy('env-a', source, { variables: { ISSUER_URL: 'https://a.example' } });
    await deploy('env-b', source, { variables: { ISSUER_URL: 'https://b.example' } });
    const before = [(await invoke('env-a', {})).payload, (await invoke('env-b', {})).payload];

    // Act
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'env-a',
        Environment: { Variables: { ISSUER_URL: 'https://a2.example' } },
      }),
    );
    const after = [(await invoke('env-a', {})).payload, (await invoke('env-b', {})).payload];

    // Assess
    expect(before).toEqual(['"https://a.example"', '"https://b.example"']);
    expect(after).toEqual(['"https://a2.example"', '"https://b.example"']);
    expect(process.env.ISSUER_URL).toBeUndefined();
  });

  it('fails to create a function that sets a reserved variable or has an unsupported runtime', async () => {
    // Act
    const reserved = deploy('reserved', 'export const handler = () => 1;', {
      variables: { AWS_REGION: 'eu-west-1' },
    });
    const python = lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'python',
        Runtime: 'python3.12',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: writeZip({ 'index.py': 'def handler(e, c): return 1' }) },
      }),
    );

    // Assess
    await expect(reserved).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining('Reserved keys used in this request: AWS_REGION'),
    });
    await expect(python).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it('queues Event invokes (202) and keeps their log lines', async () => {
    // Prepare
    await deploy(
      'eventful',
      "export const handler = async (event) => { console.log('handled', event.n); };",
    );

    // Act
    const queued = await invoke('eventful', { n: 42 }, 'Event');
    await aws.idle();

    // Assess
    expect(queued.status).toBe(202);
    expect(
      aws.lambda
        .logsOf('eventful')
        .map((l) => l.text)
        .join(''),
    ).toContain('handled 42');
  });

  it('deletes a function: it can no longer be invoked', async () => {
    // Prepare
    await deploy('doomed', 'export const handler = async () => 1;');

    // Act
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed' }));

    // Assess
    await expect(invoke('doomed', {})).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('is what RotateSecret invokes for a function ARN the in-process registry does not hold', async () => {
    // Prepare: a function that completes a rotation by the four steps' contract, minimally
    const sm = new SecretsManagerClient(aws.clientConfig);
    await deploy(
      'deployed-rotation',
      `import { SecretsManagerClient, PutSecretValueCommand, UpdateSecretVersionStageCommand, DescribeSecretCommand } from '${import.meta.resolve('@aws-sdk/client-secrets-manager')}';
       const sm = new SecretsManagerClient({});
       export const handler = async ({ SecretId, ClientRequestToken, Step }) => {
         if (Step === 'createSecret') await sm.send(new PutSecretValueCommand({ SecretId, ClientRequestToken, SecretString: 'next', VersionStages: ['AWSPENDING'] }));
         if (Step === 'finishSecret') {
           const d = await sm.send(new DescribeSecretCommand({ SecretId }));
           const current = Object.keys(d.VersionIdsToStages).find((v) => d.VersionIdsToStages[v].includes('AWSCURRENT'));
           await sm.send(new UpdateSecretVersionStageCommand({ SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: ClientRequestToken, RemoveFromVersionId: current }));
         }
       };`,
      { variables: { AWS_ENDPOINT_URL: aws.endpoint } },
    );
    const { ARN } = await sm.send(
      new CreateSecretCommand({ Name: 'via-lambda', SecretString: 'first' }),
    );

    const rotate = () =>
      sm.send(
        new RotateSecretCommand({
          SecretId: ARN,
          RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:deployed-rotation',
        }),
      );
    // Without a resource-based policy statement for Secrets Manager, RotateSecret is refused.
    await expect(rotate()).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(/principal secretsmanager\.amazonaws\.com/),
    });
    // A statement for another secret does not do either.
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'deployed-rotation',
        StatementId: 'other-secret',
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
        SourceArn: `${ARN}-other`,
      }),
    );
    await expect(rotate()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'deployed-rotation',
        StatementId: 'secrets-manager',
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
      }),
    );

    // Act
    const { VersionId } = await rotate();
    await aws.idle();

    // Assess
    const { VersionIdsToStages } = await sm.send(new DescribeSecretCommand({ SecretId: ARN }));
    expect(VersionIdsToStages?.[VersionId!]).toEqual(['AWSCURRENT']);
    const log = aws.lambda
      .logsOf('deployed-rotation')
      .map((l) => l.text)
      .join('');
    expect(log.match(/^START RequestId/gm)).toHaveLength(4);
  });

  it('refuses a function whose execution role does not exist, as Lambda does', async () => {
    await expect(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'no-role',
          Runtime: 'nodejs22.x',
          Role: 'arn:aws:iam::123456789012:role/never-created',
          Handler: 'index.handler',
          Code: { ZipFile: writeZip({ 'index.mjs': 'export const handler = async () => 1;' }) },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'The role defined for the function cannot be assumed by Lambda.',
      $metadata: { httpStatusCode: 400 },
    });
  });
});
