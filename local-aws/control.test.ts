// The served local AWS's session API (control.ts): a session is a fresh local AWS behind the same
// endpoint, with the options asked for, the suite installed when asked; closing it gives the
// endpoint its own state back; bad options are refused naming the option and what was expected.
import {
  CreateSecretCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';
import { addSessionControl, type SessionOpened } from './control.ts';
import { type LocalAws, startLocalAws } from './index.ts';

let host: LocalAws | undefined;
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

async function served(): Promise<LocalAws> {
  host = await startLocalAws({ clock: '2026-01-01T00:00:00Z' });
  addSessionControl(host);
  return host;
}

async function call(aws: LocalAws, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, aws.endpoint), {
    method,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const names = async (aws: LocalAws) =>
  (
    await new SecretsManagerClient(aws.clientConfig).send(new ListSecretsCommand({}))
  ).SecretList?.map((s) => s.Name);

describe('the session API', () => {
  it('serves a fresh local AWS with its own clock behind the same endpoint, and gives the endpoint its own state back when closed', async () => {
    // Prepare: a secret in the endpoint's own state
    const aws = await served();
    const sm = new SecretsManagerClient(aws.clientConfig);
    await sm.send(new CreateSecretCommand({ Name: 'host/secret', SecretString: 'x' }));

    // Act: a session starting at another time, with the suite; a secret made in it
    const opened = await call(aws, 'POST', '/_local/session', {
      aws: { clock: '2030-05-05T05:00:00Z', secretsManager: { pendingAfterRotation: 'kept' } },
      suite: { stackName: 'SessionTest', sweepIntervalMinutes: 5 },
    });
    await sm.send(new CreateSecretCommand({ Name: 'session/secret', SecretString: 'y' }));
    const inSession = await names(aws);
    const advanced = await call(aws, 'POST', '/_local/clock/advance', { ms: 60_000 });
    const requestsBefore = (await call(aws, 'GET', '/_local/requests')).body.total as number;
    const closed = await call(aws, 'DELETE', '/_local/session');

    // Assess: the session answered on the same endpoint, from its own state and clock ...
    expect(opened.status).toBe(200);
    const session = opened.body as unknown as SessionOpened;
    expect(session.endpoint).toBe(aws.endpoint);
    expect(session.now).toBe('2030-05-05T05:00:00.000Z');
    expect(session.suite).toMatchObject({ stackName: 'SessionTest', sweepIntervalMs: 300_000 });
    // The installed stack's own fingerprint key secret, and the test's.
    expect(inSession).toEqual(['SessionTest-fingerprint-key', 'session/secret']);
    expect(advanced.body.now).toBe('2030-05-05T05:01:00.000Z');
    // ... every request counted in the endpoint's log ...
    expect(requestsBefore).toBeGreaterThanOrEqual(3);
    // ... and closing it gives the endpoint back its own secrets and clock.
    expect(closed.status).toBe(200);
    expect(await names(aws)).toEqual(['host/secret']);
    expect((await call(aws, 'GET', '/_local/clock')).body.now).toBe('2026-01-01T00:00:00.000Z');
  });

  it('reads back what SNS published and the Secrets Manager requests of the session', async () => {
    // Prepare
    const aws = await served();
    const opened = (await call(aws, 'POST', '/_local/session', { suite: {} }))
      .body as unknown as SessionOpened;
    const sm = new SecretsManagerClient(aws.clientConfig);

    // Act (the suite's install created its fingerprint key secret: start the record after it)
    await call(aws, 'DELETE', '/_local/secretsmanager/calls');
    await sm.send(new CreateSecretCommand({ Name: 'a', SecretString: 'x' }));
    await new SNSClient(aws.clientConfig).send(
      new PublishCommand({ TopicArn: opened.suite!.topicArn, Subject: 'hello', Message: 'm' }),
    );
    const calls = await call(aws, 'GET', '/_local/secretsmanager/calls');
    await call(aws, 'DELETE', '/_local/secretsmanager/calls');
    const cleared = await call(aws, 'GET', '/_local/secretsmanager/calls');
    const messages = await call(
      aws,
      'GET',
      `/_local/sns/messages?topic=${encodeURIComponent(opened.suite!.topicArn)}`,
    );

    // Assess
    expect((calls.body.calls as { operation: string }[]).map((c) => c.operation)).toEqual([
      'CreateSecret',
    ]);
    expect(JSON.stringify(calls.body)).not.toContain('"x"');
    expect(cleared.body.calls).toEqual([]);
    expect((messages.body.messages as { subject: string }[]).map((m) => m.subject)).toEqual([
      'hello',
    ]);
  });

  it.each([
    [{ aws: { clock: 'yesterday' } }, '"aws.clock" must be an ISO time, found "yesterday"'],
    [
      { aws: { secretsManager: { pendingAfterRotation: 'gone' } } },
      '"aws.secretsManager.pendingAfterRotation" must be one of removed, kept, found "gone"',
    ],
    [
      { aws: { secretsManager: { throttle: { GetSecretValu: 5 } } } },
      'an operation in "aws.secretsManager.throttle" must be one of',
    ],
    [{ suite: { pace: { ratePerSecond: -1 } } }, '"suite.pace.ratePerSecond" must be a number ≥ 0'],
    [{ suite: { anchr: true } }, '"suite": unknown option(s) anchr'],
    ['not json', 'POST /_local/session expects a JSON object'],
  ])('refuses %j with 400, naming what it expected, and opens nothing', async (body, message) => {
    // Prepare
    const aws = await served();

    // Act
    const res = await fetch(new URL('/_local/session', aws.endpoint), {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

    // Assess
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(message);
    expect((await call(aws, 'GET', '/_local/clock')).body.now).toBe('2026-01-01T00:00:00.000Z');
  });

  it("says the session's ListSecrets consistency window, for a test to wait it out", async () => {
    // Prepare
    const aws = await served();
    await call(aws, 'POST', '/_local/session', {
      aws: { secretsManager: { listConsistency: { seed: 3, lagMs: 120_000 } } },
    });

    // Act
    const listed = await call(aws, 'GET', '/_local/secretsmanager/list-omissions');

    // Assess
    expect(listed.body).toEqual({ omissions: [], lagMs: 120_000 });
  });

  it('lists its capabilities; an endpoint without the session API answers 404', async () => {
    const aws = await served();
    const bare = await startLocalAws();
    try {
      expect((await call(aws, 'GET', '/_local/capabilities')).body.capabilities).toContain(
        'session',
      );
      expect((await call(bare, 'GET', '/_local/capabilities')).status).toBe(404);
    } finally {
      await bare.stop();
    }
  });
});
