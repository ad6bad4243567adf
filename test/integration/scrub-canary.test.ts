// Canary tokens through real failures in a session of the local AWS (embedded, or the served one
// behind AWS_ENDPOINT_URL), the rotation, revoke and issuer functions answered from this process
// so their log lines can be read here: an issuer whose errors echo the
// token percent-encoded, as a SaaS API quotes the query string it refused, fails a rotation, the
// sweep's revoke of the previous token and an emergency revoke; a person pastes a token into a
// revoke reason. Whatever was audited, alerted, logged or handed back to Secrets Manager holds no
// form of any of the secret's tokens (current, previous, pending).
import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ISSUER_CONTRACT, type IssuerRequest } from '#domain/kinds/custom/contract';
import type { RevokeRequester } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import { TAG } from '#domain/vocabulary';
import { sweepOnce } from '../cli/support.ts';
import { settleListings } from '../support/settle-listings.ts';
import { captureLogLines, expectNoForm } from './support/canary.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';
import { invokeFunction, serveSuiteHandlers } from './support/suite-handlers.ts';

const skipped = await needsSessions(
  import.meta.url,
  'an issuer function that echoes tokens and the rotation and revoke functions served from this process (their log lines read here), a movable clock, what SNS published and the rotations Secrets Manager ran',
  ['function-callbacks', 'rotations'],
);

const HOUR = 3_600_000;
const WEEK = scheduleFor(7 * 24 * HOUR);

let aws: Session;
let suite: SuiteAt;
/** The issuer actions that fail, echoing the token they were given. */
const failing = new Set<IssuerRequest['action']>();
/** Every log line the handlers wrote. */
const logLines: string[] = [];
/** What the revoke function's callers were told. */
const answers: string[] = [];
let keys = 0;

/** A SaaS key as vendors issue them: base64, so a query string percent-encodes its `+`, `/`, `=`. */
const saasKey = () =>
  `sk+${randomBytes(9).toString('base64')}/${randomBytes(12).toString('base64')}=`;

/** The token of a value a custom issuer was sent. */
const tokenOf = (value: string | undefined) =>
  value === undefined ? '' : String(JSON.parse(value).token);

// The issuer function: mints keys, and for a failing action refuses, quoting the URL it called.
async function canaryIssuer(event: unknown): Promise<unknown> {
  const request = event as IssuerRequest;
  if (failing.has(request.action)) {
    const token = tokenOf(request.value ?? request.pending ?? request.current);
    return {
      contract: ISSUER_CONTRACT,
      ok: false,
      reason: 'key-refused',
      message: `GET https://api.example.com/v1/keys/check?api_key=${encodeURIComponent(token)}&verbose=1 returned 401`,
    };
  }
  if (request.action !== 'mint') return { contract: ISSUER_CONTRACT, ok: true };
  return {
    contract: ISSUER_CONTRACT,
    ok: true,
    fields: { keyId: `canary-key-${++keys}`, token: saasKey() },
  };
}

beforeAll(async () => {
  if (skipped) return;
  aws = await openSession({ clock: '2026-05-04T09:00:00Z' }, { stackName: 'ScrubCanary' });
  suite = aws.suite;
  await serveSuiteHandlers(aws);
  await aws.deployFunction('canary-issuer', canaryIssuer);
  // Warnings and errors go to stderr: keep both streams' log lines, pass anything else on.
  captureLogLines(logLines);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await aws?.stop();
});

async function createSecret(name: string, value: string, tags: Record<string, string>) {
  const { ARN } = await suite.secretsManager.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: value,
      Tags: Object.entries({ [TAG.lifespan]: '7d', ...tags }).map(([Key, Value]) => ({
        Key,
        Value,
      })),
    }),
  );
  return ARN!;
}

async function rotate(arn: string) {
  await suite.secretsManager.send(
    new RotateSecretCommand({
      SecretId: arn,
      RotationLambdaARN: suite.rotationFunctionArn,
      RotationRules: { ScheduleExpression: WEEK.scheduleExpression, Duration: WEEK.duration },
      RotateImmediately: true,
    }),
  );
  await aws.idle();
  return (await aws.rotations(arn)).at(-1)!;
}

const sweep = (revokes?: RevokeRequester) => sweepOnce(aws, suite, revokes);

async function revoke(secretId: string, reason: string) {
  const invoked = await invokeFunction(aws, suite.functions.revoke, { secretId, reason });
  if (invoked.ok) return invoked.result;
  answers.push(invoked.errorMessage);
  return undefined;
}

/** Every value any version of the secret ever held. */
async function allValues(arn: string): Promise<string[]> {
  const { Versions } = await suite.secretsManager.send(
    new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }),
  );
  const values: string[] = [];
  for (const { VersionId } of Versions ?? []) {
    const out = await suite.secretsManager.send(
      new GetSecretValueCommand({ SecretId: arn, VersionId }),
    );
    if (out.SecretString) values.push(out.SecretString);
  }
  return values;
}

/** Everything a person can read about a secret: its trail, its alerts, the logs, what callers and Secrets Manager were told. */
async function readable(arn: string, name: string): Promise<string> {
  const alerts = (await aws.published(suite.topicArn)).filter(
    (m) => m.attributes.secret?.StringValue === name,
  );
  const rotationErrors = (await aws.rotations(arn)).flatMap((r) =>
    r.attempts.map((a) => a.error ?? ''),
  );
  return [
    JSON.stringify(await suite.audit.history(arn)),
    ...alerts.map((m) => `${m.subject}\n${m.message}\n${JSON.stringify(m.attributes)}`),
    ...logLines,
    ...answers,
    ...rotationErrors,
  ].join('\n');
}

describe('tokens an issuer echoes percent-encoded', () => {
  it('reach no audit record, alert, log line or Secrets Manager error through a failed rotation, sweep revoke and emergency revoke', async () => {
    // Prepare: a custom-issuer secret rotated once, so it has a current and a previous token.
    const name = 'canary/saas-api-key';
    const arn = await createSecret(
      name,
      JSON.stringify({ keyId: 'canary-key-0', token: saasKey(), owner: 'payments' }),
      { [TAG.kind]: 'lambda:canary-issuer', [TAG.grace]: '1h' },
    );
    expect((await rotate(arn)).outcome).toBe('succeeded');

    // Act: the previous token's revoke fails after grace, a rotation fails at testSecret (a
    // pending token is staged), and an emergency revoke fails at the issuer, its reason quoting
    // the live token as it appeared in a URL.
    failing.add('revoke');
    await aws.clock.advance(2 * HOUR);
    const swept = await sweep();
    failing.add('verify');
    const failedRotation = await rotate(arn);
    const [current] = (await allValues(arn)).filter((v) => v.includes('canary-key-1'));
    const outcome = await revoke(
      arn,
      `found in a public gist: https://api.example.com/v1?api_key=${encodeURIComponent(tokenOf(current))}`,
    );
    await aws.idle();

    // Assess: each failure happened and was told, with the token redacted where it stood.
    expect(swept.failureCount).toBeGreaterThan(0);
    expect(failedRotation.outcome).toBe('failed');
    expect(outcome).toBeUndefined();
    const trail = await suite.audit.history(arn);
    const failures = trail.filter((r) => r.outcome === 'failed');
    expect(failures.map((r) => r.event)).toEqual(
      expect.arrayContaining(['rotation.failed', 'revoke.failed']),
    );
    for (const record of failures) expect(record.error).toContain('api_key=[redacted]');
    expect(trail.find((r) => r.event === 'revoke.requested')?.detail?.reason).toBe(
      'found in a public gist: https://api.example.com/v1?api_key=[redacted]',
    );
    expect(logLines.filter((line) => line.includes('api_key=[redacted]')).length).toBeGreaterThan(
      2,
    );
    const tokens = (await allValues(arn)).map(tokenOf);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    expectNoForm(await readable(arn, name), tokens);
  });
});

describe('a revoke reason', () => {
  it("is scrubbed of the secret's hand-set token, short and with punctuation as it is", async () => {
    // Prepare
    const name = 'canary/hand-set';
    const token = 'hunter2!x';
    const arn = await createSecret(name, token, {});

    // Act
    const outcome = await revoke(arn, `someone pasted ${token} into #general`);
    await aws.idle();

    // Assess
    expect(outcome).toMatchObject({ status: 'completed' });
    const trail = await suite.audit.history(arn);
    expect(trail.find((r) => r.event === 'revoke.completed')?.detail?.reason).toBe(
      'someone pasted [redacted] into #general',
    );
    const text = await readable(arn, name);
    expect(text).toContain('someone pasted [redacted] into #general');
    expect(text).not.toContain(token);
  });
});

describe('a revoke tag the sweep hands over', () => {
  it("has its reason scrubbed of the secret's token before it is audited and handed over", async () => {
    // Prepare: the tag quotes the hand-set token, percent-encoded as it was found in a URL.
    const name = 'canary/tagged';
    const token = 'pw:9x!q';
    const arn = await createSecret(name, JSON.stringify({ token, owner: 'billing' }), {
      [TAG.revoke]: `seen in logs as ?key=${encodeURIComponent(token)}`,
    });
    const handedOver: { reason: string }[] = [];
    // ListSecrets shows what was just created or changed only once settled, as on AWS.
    await settleListings(aws);

    // Act
    await sweep({ requestRevoke: async (request) => void handedOver.push(request) });

    // Assess
    expect(handedOver.map((r) => r.reason)).toEqual(['seen in logs as ?key=[redacted]']);
    const record = (await suite.audit.history(arn)).find((r) => r.event === 'revoke.handed-over');
    expect(record?.detail?.reason).toBe('seen in logs as ?key=[redacted]');
    expectNoForm(await readable(arn, name), [token]);
  });
});
