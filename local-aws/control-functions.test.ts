// The function callback route (control-functions.ts, lambda-callback.ts): a function deployed with
// CreateFunction and forwarded to a loopback URL is invoked there by Secrets Manager and by Invoke,
// with Lambda's answer shapes, and only when its resource policy lets Secrets Manager invoke it;
// the rotations and IAM consistency routes; bad requests are refused saying what was expected.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { addSessionControl } from './control.ts';
import { type LocalAws, startLocalAws } from './index.ts';
import { writeZip } from './zip.ts';

let host: LocalAws | undefined;
let callback: Server | undefined;
afterEach(async () => {
  await host?.stop();
  callback?.closeAllConnections();
  await new Promise((resolve) => (callback ? callback.close(resolve) : resolve(undefined)));
  host = undefined;
  callback = undefined;
});

/** A loopback server answering invocations: records each event, fails those `fail` picks. */
async function callbackServer(fail: (event: { Step?: string }) => boolean) {
  const events: { Step?: string }[] = [];
  callback = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      events.push(event);
      if (fail(event)) {
        res.writeHead(200, { 'x-amz-function-error': 'Unhandled' });
        res.end(JSON.stringify({ errorType: 'StepFailed', errorMessage: `no ${event.Step}` }));
      } else {
        res.end(JSON.stringify({ echoed: event.Step ?? 'invoke' }));
      }
    });
  });
  await new Promise<void>((resolve) => callback!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(callback.address() as AddressInfo).port}/fn`, events };
}

async function deployed(aws: LocalAws, name: string) {
  const { Role } = await new IAMClient(aws.clientConfig).send(
    new CreateRoleCommand({ RoleName: `${name}-role`, AssumeRolePolicyDocument: '{}' }),
  );
  const lambda = new LambdaClient(aws.clientConfig);
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: Role!.Arn!,
      Handler: 'index.handler',
      Code: { ZipFile: writeZip({ 'index.mjs': 'export const handler = async () => "code";' }) },
    }),
  );
  return lambda;
}

async function call(aws: LocalAws, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, aws.endpoint), {
    method,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a function served by a callback', () => {
  it('answers Invoke from the callback, a thrown error as a FunctionError', async () => {
    // Prepare
    host = await startLocalAws({ clock: '2026-01-01T00:00:00Z' });
    addSessionControl(host);
    const { url } = await callbackServer((e) => e.Step === 'boom');
    const lambda = await deployed(host, 'served');

    // Act
    const forwarded = await call(host, 'PUT', '/_local/lambda/functions/served/callback', { url });
    const invoke = (payload: unknown) =>
      lambda.send(
        new InvokeCommand({
          FunctionName: 'served',
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
    const ok = await invoke({ Step: 'hello' });
    const failed = await invoke({ Step: 'boom' });

    // Assess
    expect(forwarded).toMatchObject({
      status: 200,
      body: { functionArn: expect.stringContaining(':function:served') },
    });
    expect(JSON.parse(Buffer.from(ok.Payload!).toString())).toEqual({ echoed: 'hello' });
    expect(ok.FunctionError).toBeUndefined();
    expect(failed.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(failed.Payload!).toString())).toEqual({
      errorType: 'StepFailed',
      errorMessage: 'no boom',
    });
  });

  it('is invoked by RotateSecret only once its resource policy lets Secrets Manager, each step there, the rotations route telling how it ended', async () => {
    // Prepare: a rotation function whose testSecret fails
    host = await startLocalAws({ clock: '2026-01-01T00:00:00Z' });
    addSessionControl(host);
    const { url, events } = await callbackServer((e) => e.Step === 'testSecret');
    const lambda = await deployed(host, 'rotator');
    await call(host, 'PUT', '/_local/lambda/functions/rotator/callback', { url });
    const sm = new SecretsManagerClient({ ...host.clientConfig, maxAttempts: 1 });
    const { ARN } = await sm.send(
      new CreateSecretCommand({ Name: 'cb/secret', SecretString: 'v' }),
    );
    const rotate = () =>
      sm.send(
        new RotateSecretCommand({
          SecretId: ARN,
          RotationLambdaARN: 'rotator',
          RotateImmediately: true,
        }),
      );

    // Act: first without the permission, then with it
    const refused = await rotate().catch((e: Error) => e);
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'rotator',
        StatementId: 'sm',
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
      }),
    );
    await rotate();
    await host.idle();
    const rotations = await call(
      host,
      'GET',
      `/_local/secretsmanager/rotations?secret=${encodeURIComponent(ARN!)}`,
    );

    // Assess
    expect(refused).toMatchObject({ name: 'AccessDeniedException' });
    expect(events.map((e) => e.Step).slice(0, 3)).toEqual([
      'createSecret',
      'setSecret',
      'testSecret',
    ]);
    const [rotation] = rotations.body.rotations as {
      outcome: string;
      attempts: { step: string; error?: string }[];
    }[];
    expect(rotation?.outcome).toBe('failed');
    expect(rotation?.attempts.find((a) => a.error)).toMatchObject({
      step: 'testSecret',
      error: expect.stringContaining('no testSecret'),
    });
  });

  it('fails, naming what was expected, for a function that does not exist or a URL off loopback', async () => {
    // Prepare
    host = await startLocalAws();
    addSessionControl(host);

    // Act
    const missing = await call(host, 'PUT', '/_local/lambda/functions/nothing/callback', {
      url: 'http://127.0.0.1:1/fn',
    });
    await deployed(host, 'here');
    const remote = await call(host, 'PUT', '/_local/lambda/functions/here/callback', {
      url: 'http://example.com/fn',
    });
    const delay = await call(host, 'PUT', '/_local/iam/consistency', { delayMs: -1 });

    // Assess
    expect(missing).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('no function nothing') },
    });
    expect(remote).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('loopback') },
    });
    expect(delay).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('delayMs') },
    });
  });

  it('sets how long STS refuses a new key', async () => {
    // Prepare
    host = await startLocalAws();
    addSessionControl(host);

    // Act
    const set = await call(host, 'PUT', '/_local/iam/consistency', { delayMs: 4000 });

    // Assess
    expect(set.status).toBe(200);
    expect(host.iam.consistencyDelayMs).toBe(4000);
  });
});
