// The emergency revoke end to end in a local AWS session (embedded, or behind AWS_ENDPOINT_URL),
// through each trigger as a user pulls it: the runbook's invoke, a direct invoke from the console,
// an AWS Health exposed-credential event, and the revoke tag (CloudTrail TagResource on the event
// bus). The revoke and revoke-event handlers run here, over clients at that endpoint and on the
// session's clock. Real adapters throughout; only the iam-access-key issuer is a recording
// stand-in. The stack's rules run at the endpoint: its EventBridge delivers tag events to the
// revoke-events and tag-events functions, and its Secrets Manager invokes a rotation function held
// mid-step; the endpoint forwards those functions' invocations to handlers here
// (PUT /_local/lambda/functions/<name>/callback, Session.serveFunction and deployFunction).
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoRevokeLockStore } from '#adapters/dynamodb-revoke-locks';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import type { AutomationExecution } from '#adapters/ssm-automation';
import { randomIssuer } from '#domain/kinds/random/issuer';
import type { AuditRecord, Issuer } from '#domain/ports';
import { type RevokeOutcome, readQuarantineNotice } from '#domain/revoke/index';
import type { RevokeEventDeps } from '#domain/revoke-events';
import { checkToken, mintToken, tokenPrefix } from '#domain/tokens';
import { STAGE, TAG } from '#domain/vocabulary';
import { createRevokeHandler } from '#handlers/revoke';
import { createRevokeEventsHandler, type RevokeEventsResult } from '#handlers/revoke-events';
import type { LocalEvent } from '#local-aws/index';
import { captureLogLines } from './support/canary.ts';
import { exposedCredentialEvent } from './support/health-event.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';
import { invokeFunction } from './support/suite-handlers.ts';

const onlyEmbedded = await needsSessions(
  import.meta.url,
  'a movable clock, what SNS published (every alert is read back and checked for the canary), the rules delivering tag events to, and Secrets Manager invoking, functions served from the test process, and the rotations Secrets Manager ran',
  ['function-callbacks', 'rotations'],
);

let aws: Session;
let suite: SuiteAt;
let deps: RevokeEventDeps;
/** The revoke function's handler as deployed, run here with the runbook's executions below. */
let revokeHandler: ReturnType<typeof createRevokeHandler>;
/** The revoke-events function's handler, run here: every delivery it gets is recorded. */
let onEvent: (event: LocalEvent) => Promise<RevokeEventsResult>;
/** What the event handler answered, per delivery. */
const eventResults: RevokeEventsResult[] = [];
/** Every event delivered to the handler, as it arrived. */
const deliveredEvents: LocalEvent[] = [];
/** Holds the delivery of the next revoke-tag event of this secret until the gate opens. */
let hold: { secretArn: string; arrived: () => void; gate: Promise<void> } | undefined;
/** Every line the handlers logged. */
const logLines: string[] = [];
/** Every error the triggers threw, as the console would show it. */
const errors: string[] = [];

/** The recording stand-in for the iam-access-key issuer: names tokens by access key ID. */
const iamRevoked: string[] = [];
let keyCounter = 0;
const newKeyId = () =>
  `AKIA${String(++keyCounter).padStart(4, '0')}${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`;
const iamIssuer: Issuer = {
  kind: 'iam-access-key',
  async mint(ctx) {
    const { userName } = JSON.parse(ctx.current);
    return JSON.stringify({ userName, accessKeyId: newKeyId(), secretAccessKey: mintToken('x') });
  },
  async verify() {},
  async revoke(ctx) {
    iamRevoked.push(JSON.parse(ctx.value).accessKeyId);
  },
  name: (value) => JSON.parse(value).accessKeyId,
};

/** The runbook's executions as Systems Manager would answer GetAutomationExecution. */
const executions = new Map<string, AutomationExecution>();

/** A valid token planted in a secret: it must never appear in a log, audit record, alert or error. */
const canary = mintToken('canary_live_x');

beforeAll(async () => {
  if (onlyEmbedded) return;
  aws = await openSession(
    { clock: '2026-03-02T09:00:00Z' },
    { stackName: 'RevokeTest', triggers: { rules: true } },
  );
  suite = aws.suite;
  deps = {
    store: suite.store,
    catalog: new SecretsManagerCatalog(suite.secretsManager),
    audit: suite.audit,
    alerter: suite.alerter,
    issuerFor: (kind) => (kind === 'iam-access-key' ? iamIssuer : randomIssuer),
    locks: new DynamoRevokeLockStore(suite.dynamo, suite.tableName),
    clock: aws.clock.now,
    stackName: suite.stackName,
  };
  revokeHandler = createRevokeHandler({
    ...deps,
    executions: { get: async (id) => executions.get(id) },
  });
  const handleEvent = createRevokeEventsHandler(deps);
  onEvent = async (event) => {
    deliveredEvents.push(structuredClone(event));
    const held = hold;
    if (
      held &&
      carriesRevokeTag(event) &&
      event.detail?.requestParameters?.secretId === held.secretArn
    ) {
      hold = undefined;
      held.arrived();
      await held.gate;
    }
    const result = await handleEvent(structuredClone(event));
    eventResults.push(result);
    return result;
  };
  // The endpoint's rules deliver the revoke tag to the revoke-events function, and every tag
  // change to the tag-events function. Both are served here by the revoke-events handler: every
  // TagResource/UntagResource (the suite's own included) reaches it once, a wider net than the
  // revoke rule's pattern, so the handler must pick out its own.
  await aws.serveFunction(suite.functions.revokeEvents, (event) => onEvent(event as LocalEvent));
  await aws.serveFunction(suite.functions.tagEvents, async (event) => {
    const e = event as LocalEvent;
    const name = e.detail?.eventName;
    if (name === 'UntagResource' || (name === 'TagResource' && !carriesRevokeTag(e))) {
      await onEvent(e);
    }
  });
  // Log lines are kept for the canary check; anything else (the test runner's own output) passes.
  captureLogLines(logLines, [process.stdout]);
});

afterEach(async () => {
  if (onlyEmbedded) return;
  await aws.idle();
});

afterAll(async () => {
  if (onlyEmbedded) return;
  vi.restoreAllMocks();
  const published = await aws.published(suite.topicArn);
  const everything = [
    ...logLines,
    ...errors,
    ...published.map((m) => `${m.subject}\n${m.message}\n${JSON.stringify(m.attributes)}`),
    JSON.stringify(await suite.audit.between(new Date('2026-03-01'), new Date('2026-03-05'))),
  ].join('\n');
  // Assess (for every test): the canary was read, revoked and reasoned about, and never shown.
  expect(logLines.filter((line) => line.includes('"revoke done"')).length).toBeGreaterThan(5);
  expect(published.length).toBeGreaterThan(5);
  expect(everything).not.toContain(canary);
  expect(everything).not.toContain(canary.slice(14, 40));
  await aws.stop();
});

// ---- helpers ----

const apiKey = (token: string) =>
  JSON.stringify({ owner: 'payments-team', token, scopes: ['charges:read'] }, null, 2);

async function createSecret(
  name: string,
  value: string,
  tags: Record<string, string> = { [TAG.lifespan]: '7d' },
) {
  const out = await suite.secretsManager.send(
    new CreateSecretCommand({
      Name: `${name}-${randomUUID().slice(0, 6)}`,
      SecretString: value,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return { arn: out.ARN!, name: out.Name!, versionId: out.VersionId! };
}

async function describeSecret(arn: string) {
  const out = await suite.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
  return {
    stages: out.VersionIdsToStages ?? {},
    tags: Object.fromEntries((out.Tags ?? []).map((t) => [t.Key!, t.Value!])),
  };
}

async function value(arn: string, select: { versionId?: string; stage?: string } = {}) {
  const out = await suite.secretsManager.send(
    new GetSecretValueCommand({
      SecretId: arn,
      VersionId: select.versionId,
      VersionStage: select.stage,
    }),
  );
  return out.SecretString!;
}

/** The values of every version that still carries a staging label. */
async function stagedValues(arn: string): Promise<string[]> {
  const { stages } = await describeSecret(arn);
  return Promise.all(Object.keys(stages).map((versionId) => value(arn, { versionId })));
}

const holders = (stages: Record<string, string[]>, stage: string) =>
  Object.keys(stages).filter((id) => stages[id]!.includes(stage));

async function trail(arn: string): Promise<AuditRecord[]> {
  return suite.audit.history(arn);
}
const events = (records: AuditRecord[]) => records.map((r) => `${r.event}:${r.outcome}`);

async function invokeRevoke(event: unknown): Promise<RevokeOutcome> {
  try {
    return (await revokeHandler(structuredClone(event) as never)) as RevokeOutcome;
  } catch (error) {
    errors.push(String((error as Error).message));
    throw error;
  }
}

/** Whether a CloudTrail TagResource event sets the revoke tag (what the revoke rule matches). */
function carriesRevokeTag(event: LocalEvent): boolean {
  const tags = event.detail?.requestParameters?.tags;
  return Array.isArray(tags) && tags.some((t: { key?: string }) => t?.key === TAG.revoke);
}

async function tag(arn: string, tags: Record<string, string>) {
  await suite.secretsManager.send(
    new TagResourceCommand({
      SecretId: arn,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  await aws.idle();
}

const alertsFor = async (name: string) =>
  (await aws.published(suite.topicArn)).filter((m) => m.attributes.secret?.StringValue === name);

// ---- the runbook and the direct invoke ----

describe('revoke by the runbook and by a direct invoke', () => {
  it('quarantines from the runbook: no staged version holds a token, the notice says why, and a reissue restores service', async () => {
    // Prepare
    const secret = await createSecret('quarantined', apiKey(canary));
    const runbook = {
      executionId: randomUUID(),
      executedBy: 'arn:aws:sts::123456789012:assumed-role/SecurityOncall/alice@example.com',
    };
    executions.set(runbook.executionId, {
      executionId: runbook.executionId,
      documentName: 'RevokeTest-EmergencyRevoke',
      status: 'InProgress',
      executedBy: runbook.executedBy,
      parameters: { SecretId: [secret.name], Reason: ['laptop stolen'], Mode: ['quarantine'] },
    });

    // Act
    const outcome = await invokeRevoke({ runbook: { executionId: runbook.executionId } });

    // Assess
    expect(outcome).toMatchObject({ status: 'completed', mode: 'quarantine' });
    const current = await value(secret.arn);
    expect(current).toContain('\n');
    const notice = JSON.parse(current);
    expect(notice.token).toBeUndefined();
    expect(notice.message).toMatch(/quarantined until a person acts/);
    expect(notice.restore).toContain('RevokeTest-EmergencyRevoke');
    expect(readQuarantineNotice(current)?.restoreFrom).toBe(secret.versionId);
    for (const staged of await stagedValues(secret.arn)) {
      expect(staged).not.toContain(canary);
      expect(checkToken(JSON.parse(staged).token ?? '')).toBeDefined();
    }
    const records = await trail(secret.arn);
    expect(records[0]!.trigger).toEqual({ source: 'runbook', principal: runbook.executedBy });
    expect(records[0]!.detail?.executionId).toBe(runbook.executionId);
    const alert = (await alertsFor(secret.name)).at(-1)!;
    expect(alert.message).toContain('the secret is quarantined');
    expect(alert.message).toContain(
      'run the RevokeTest-EmergencyRevoke runbook on this secret with Mode reissue',
    );

    // Act: a person restores service
    const restored = await invokeRevoke({
      secretId: secret.arn,
      reason: 'leak contained',
      mode: 'reissue',
    });

    // Assess
    expect(restored).toMatchObject({ status: 'completed', mode: 'reissue' });
    const fresh = JSON.parse(await value(secret.arn));
    expect(checkToken(fresh.token, tokenPrefix(canary))).toBeUndefined();
    expect(fresh.owner).toBe('payments-team');
    const { stages } = await describeSecret(secret.arn);
    expect(Object.keys(stages)).toEqual([(restored as { newVersionId: string }).newVersionId]);
    expect(events(await trail(secret.arn))).toEqual([
      'revoke.requested:started',
      'revoke.completed:succeeded',
      'revoke.requested:started',
      'revoke.completed:succeeded',
    ]);
  });

  it('does the work once for a double-clicked request, and again for a new reason', async () => {
    // Prepare
    const secret = await createSecret('double-click', apiKey(mintToken('dbl_')));
    const request = { secretId: secret.arn, reason: 'leaked in CI logs', mode: 'reissue' };

    // Act
    const [first, second] = await Promise.all([invokeRevoke(request), invokeRevoke(request)]);
    const third = await invokeRevoke(request);
    const fourth = await invokeRevoke({ ...request, reason: 'leaked again' });

    // Assess
    expect([first.status, second.status].sort()).toEqual(['completed', 'duplicate']);
    expect(third).toMatchObject({ status: 'duplicate', state: 'completed' });
    expect((third as { message: string }).message).toContain('give another reason');
    expect(fourth.status).toBe('completed');
    const completed = (await trail(secret.arn)).filter((r) => r.event === 'revoke.completed');
    expect(completed).toHaveLength(2);
    expect(await alertsFor(secret.name)).toHaveLength(2);
  });
});

// ---- bad requests ----

describe('bad revoke requests', () => {
  it.each([
    ['an empty reason', { reason: '   ' }, /expected a reason .*found an empty one/],
    ['an over-long reason', { reason: 'x'.repeat(257) }, /at most 256 characters, found 257/],
    ['an unknown mode', { mode: 'nuke' }, /expected mode reissue or quarantine, found "nuke"/],
  ])(
    'fails with a clear error, an audit record and no change for %s',
    async (_name, change, message) => {
      // Prepare
      const secret = await createSecret('bad-input', apiKey(mintToken('bad_')));
      const before = await value(secret.arn);

      // Act
      const act = invokeRevoke({
        secretId: secret.arn,
        reason: 'leaked',
        mode: 'reissue',
        ...change,
      });

      // Assess
      await expect(act).rejects.toThrow(message);
      await expect(act).rejects.toThrow(/nothing was revoked or changed/);
      expect(await value(secret.arn)).toBe(before);
      expect(Object.keys((await describeSecret(secret.arn)).stages)).toEqual([secret.versionId]);
      const records = await trail(secret.arn);
      expect(events(records)).toEqual(['revoke.failed:failed']);
      expect(records[0]!.detail?.refused).toBe('invalid-request');
    },
  );

  it('fails for a secret that is not opted in, with an audit record and an alert, and changes nothing', async () => {
    // Prepare
    const secret = await createSecret('not-managed', apiKey(canary), { team: 'payments' });

    // Act
    const act = invokeRevoke({ secretId: secret.arn, reason: 'leaked' });

    // Assess
    await expect(act).rejects.toThrow(
      /expected the secret to be managed by token-rotation \(tag token-rotation:lifespan\)/,
    );
    expect(await value(secret.arn)).toBe(apiKey(canary));
    expect(events(await trail(secret.arn))).toEqual(['revoke.failed:failed']);
    expect((await alertsFor(secret.name)).at(-1)!.subject).toBe(
      `[CRITICAL] revoke.failed: ${secret.name}`,
    );
  });

  it('fails for a secret that does not exist, audited under the id asked for, or an event that names none, without writing anything', async () => {
    // Act
    const missing = await invokeRevoke({ secretId: 'no/such/secret', reason: 'leaked' }).catch(
      (e: Error) => e,
    );
    const unnamed = await invokeRevoke({ reason: 'leaked' }).catch((e: Error) => e);

    // Assess
    expect(String(missing)).toMatch(
      /no\/such\/secret: revoke: expected an existing secret .* found no such secret/,
    );
    expect(String(unnamed)).toMatch(/expected \{"secretId"/);
    expect(events(await trail('no/such/secret'))).toEqual(['revoke.failed:failed']);
  });

  it('keeps an untrusted reason out of the subject and attributes, and on one line in the body', async () => {
    // Prepare
    const secret = await createSecret('hostile-reason', apiKey(mintToken('hr_')));
    const reason = `oops\r\nSubject: [INFO] all clear\u202e\u2028severity: info ${canary}`;

    // Act
    await invokeRevoke({ secretId: secret.arn, reason });

    // Assess
    const alert = (await alertsFor(secret.name)).at(-1)!;
    expect(alert.subject).toBe(`[CRITICAL] revoke.completed: ${secret.name}`);
    expect(
      Object.fromEntries(Object.entries(alert.attributes).map(([k, v]) => [k, v.StringValue])),
    ).toEqual({
      severity: 'critical',
      event: 'revoke.completed',
      secret: secret.name,
    });
    const lines = alert.message.split('\n');
    expect(lines.filter((line) => line.includes('Subject:'))).toEqual([
      'Why: Reason given: oops Subject: [INFO] all clear severity: info [redacted]',
    ]);
    expect(alert.message).not.toMatch(/[\r\u202e\u2028]/);
    const completed = (await trail(secret.arn)).at(-1)!;
    expect(completed.detail?.reason).toBe(
      'oops Subject: [INFO] all clear severity: info [redacted]',
    );
  });
});

// ---- AWS Health ----

describe('revoke by an AWS Health exposed-credential event', () => {
  const healthEvent = (accessKeyId: string, code?: string) =>
    exposedCredentialEvent(aws.clock.now(), [accessKeyId], code) as unknown as LocalEvent;

  it('revokes the managed access key it names and reissues one at once', async () => {
    // Prepare
    const exposed = newKeyId();
    const secret = await createSecret(
      'iam-user',
      JSON.stringify({ userName: 'ci-bot', accessKeyId: exposed, secretAccessKey: canary }),
      { [TAG.lifespan]: '30d', [TAG.kind]: 'iam-access-key' },
    );

    // Act
    await onEvent(healthEvent(exposed, 'AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED'));

    // Assess
    expect(iamRevoked).toContain(exposed);
    const fresh = JSON.parse(await value(secret.arn));
    expect(fresh.userName).toBe('ci-bot');
    expect(fresh.accessKeyId).not.toBe(exposed);
    const records = await trail(secret.arn);
    expect(events(records)).toEqual(['revoke.requested:started', 'revoke.completed:succeeded']);
    expect(records[1]!.tokens?.current).toBe(exposed);
    expect(records[0]!.trigger).toEqual({ source: 'health', principal: 'aws.health' });
    expect(String(records[0]!.detail?.reason)).toContain(
      'AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED',
    );
  });

  it('audits and drops an event about a key no managed secret holds', async () => {
    // Prepare
    const stranger = newKeyId();
    const event = healthEvent(stranger);
    const revokedBefore = iamRevoked.length;

    // Act
    await onEvent(event);

    // Assess
    expect(iamRevoked).toHaveLength(revokedBefore);
    const records = await suite.audit.history(
      (event.detail as unknown as { eventArn: string }).eventArn,
    );
    expect(events(records)).toEqual(['revoke.ignored:skipped']);
    expect(records[0]!.tokens).toEqual({ reported: stranger });
  });
});

// ---- the lock, on DynamoDB's own conditional writes ----

describe('the revoke lock in the audit table', () => {
  const lock = (revokeId: string, startedAt: string, requestKey = `form:${revokeId}`) => ({
    revokeId,
    requestKey,
    mode: 'reissue',
    requester: 'console',
    startedAt,
  });
  const options = (keys: string[], staleBefore = '2026-03-02T08:00:00.000Z') => ({
    sameRequestKeys: keys,
    staleBefore: new Date(staleBefore),
  });

  it('holds off a second revoke while one runs, and takes over one left running by a crash once stale', async () => {
    // Prepare
    const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:lock-${randomUUID()}`;
    await deps.locks.claim(arn, lock('first', '2026-03-02T08:30:00.000Z'), options(['a']));

    // Act
    const whileRunning = await deps.locks.claim(
      arn,
      lock('second', '2026-03-02T08:31:00.000Z'),
      options(['b']),
    );
    const afterCrash = await deps.locks.claim(
      arn,
      lock('third', '2026-03-02T09:00:00.000Z'),
      options(['c'], '2026-03-02T08:45:00.000Z'),
    );

    // Assess
    expect(whileRunning).toMatchObject({
      status: 'held',
      by: { revokeId: 'first', state: 'running' },
    });
    expect(afterCrash).toEqual({ status: 'claimed' });
  });

  it('lets a failed request run again, but not a completed one', async () => {
    // Prepare
    const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:lock-${randomUUID()}`;
    const at = new Date('2026-03-02T08:40:00.000Z');
    await deps.locks.claim(arn, lock('r1', at.toISOString(), 'tag:1'), options(['tag:1']));
    await deps.locks.finish(arn, { revokeId: 'r1', requestKey: 'tag:1' }, 'failed', at);

    // Act
    const retry = await deps.locks.claim(
      arn,
      lock('r2', at.toISOString(), 'tag:1'),
      options(['tag:1']),
    );
    await deps.locks.finish(arn, { revokeId: 'r2', requestKey: 'tag:1' }, 'completed', at);
    const repeat = await deps.locks.claim(
      arn,
      lock('r3', at.toISOString(), 'tag:1'),
      options(['tag:1']),
    );
    const another = await deps.locks.claim(
      arn,
      lock('r4', at.toISOString(), 'tag:2'),
      options(['tag:2']),
    );

    // Assess
    expect(retry).toEqual({ status: 'claimed' });
    expect(repeat).toMatchObject({ status: 'held', by: { revokeId: 'r2', state: 'completed' } });
    expect(another).toEqual({ status: 'claimed' });
  });
});

// ---- what the endpoint sets off: its rules, and Secrets Manager's rotation ----

describe('with handlers in this process that the endpoint sets off', () => {
  describe('revoke by the tag token-rotation:revoke', () => {
    it('revokes the live token, makes a fresh one current with the same prefix and fields, and tells who and why', async () => {
      // Prepare
      const secret = await createSecret('tagged', apiKey(canary));

      // Act
      await tag(secret.arn, { [TAG.revoke]: 'token pasted in the #payments channel' });

      // Assess
      const fresh = JSON.parse(await value(secret.arn));
      expect(fresh.token).not.toBe(canary);
      expect(checkToken(fresh.token, tokenPrefix(canary))).toBeUndefined();
      expect(fresh.owner).toBe('payments-team');
      expect(fresh.scopes).toEqual(['charges:read']);
      for (const staged of await stagedValues(secret.arn)) expect(staged).not.toContain(canary);
      const { stages, tags } = await describeSecret(secret.arn);
      expect(Object.keys(stages)).toHaveLength(1);
      expect(tags[TAG.revoke]).toBeUndefined();
      expect(tags[TAG.lastRevoked]).toBe(aws.clock.now().toISOString());
      const records = await trail(secret.arn);
      expect(events(records)).toEqual(['revoke.requested:started', 'revoke.completed:succeeded']);
      expect(records[0]!.trigger).toEqual({
        source: 'tag',
        principal: 'arn:aws:iam::123456789012:user/local',
      });
      expect(records[1]!.detail?.reason).toBe('token pasted in the #payments channel');
      expect(records[1]!.tokens?.current).toMatch(/^fp:/);
      const [alert, ...more] = await alertsFor(secret.name);
      expect(more).toEqual([]);
      expect(alert!.subject).toBe(`[CRITICAL] revoke.completed: ${secret.name}`);
      expect(alert!.message).toContain('Triggered by: tag by arn:aws:iam::123456789012:user/local');
      expect(alert!.message).toContain('Reason given: token pasted in the #payments channel');
      expect(alert!.message).toContain(
        `version ${secret.versionId} (AWSCURRENT): ${records[1]!.tokens?.current}`,
      );
      expect(alert!.message).toContain('Consumers must read the secret again now');
    });

    it("never sets itself off again: the suite's own tag changes start no second revoke", async () => {
      // Prepare
      const secret = await createSecret('own-tags', apiKey(mintToken('own_')));
      const before = eventResults.length;

      // Act
      await tag(secret.arn, { [TAG.revoke]: 'rotate it all' });

      // Assess: the tag, then the suite's untag and last-revoked tag, each delivered; one revoke.
      const delivered = eventResults.slice(before);
      expect(delivered.map((r) => r.status).sort()).toEqual(['handled', 'ignored', 'ignored']);
      expect(events(await trail(secret.arn))).toEqual([
        'revoke.requested:started',
        'revoke.completed:succeeded',
      ]);
    });

    it('does the work once when the same tag event is delivered twice at once, and again later', async () => {
      // Prepare
      const secret = await createSecret('redelivered', apiKey(mintToken('redo_')));
      let arrived!: () => void;
      const reached = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      hold = { secretArn: secret.arn, arrived, gate };
      await suite.secretsManager.send(
        new TagResourceCommand({
          SecretId: secret.arn,
          Tags: [{ Key: TAG.revoke, Value: 'leaked' }],
        }),
      );
      await reached;
      const tagEvent = deliveredEvents.findLast(
        (e) => carriesRevokeTag(e) && e.detail.requestParameters?.secretId === secret.arn,
      )!;

      // Act: EventBridge delivers at least once. The same event again through the endpoint's
      // Lambda, released together with the held first delivery; then once more, later.
      const again = invokeFunction(aws, suite.functions.revokeEvents, tagEvent);
      open();
      await again;
      await aws.idle();
      await invokeFunction(aws, suite.functions.revokeEvents, tagEvent);
      await aws.idle();

      // Assess
      const records = await trail(secret.arn);
      expect(records.filter((r) => r.event === 'revoke.completed')).toHaveLength(1);
      expect(events(records)).toEqual([
        'revoke.requested:started',
        'revoke.requested:skipped',
        'revoke.completed:succeeded',
        'revoke.ignored:skipped',
      ]);
      expect(Object.keys((await describeSecret(secret.arn)).stages)).toHaveLength(1);
      expect(await alertsFor(secret.name)).toHaveLength(1);
    });
  });

  describe('revoke by a direct invoke racing the tag or a rotation', () => {
    it('does the work once when the tag and a direct invoke arrive together', async () => {
      // Prepare
      const secret = await createSecret('two-at-once', apiKey(mintToken('two_')));

      // Act
      const tagging = tag(secret.arn, { [TAG.revoke]: 'seen on pastebin' });
      const invoked = invokeRevoke({
        secretId: secret.arn,
        reason: 'seen on pastebin',
        mode: 'reissue',
      });
      await Promise.all([tagging, invoked]);
      await aws.idle();

      // Assess
      const records = await trail(secret.arn);
      expect(records.filter((r) => r.event === 'revoke.completed')).toHaveLength(1);
      const { stages } = await describeSecret(secret.arn);
      expect(holders(stages, STAGE.current)).toHaveLength(1);
      expect(Object.keys(stages)).toHaveLength(1);
    });

    it('revokes the pending token of a rotation in progress and leaves one consistent current version', async () => {
      // Prepare: a rotation held at setSecret, its new token already put as AWSPENDING
      const secret = await createSecret('mid-rotation', apiKey(mintToken('mid_')));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let reachedSet!: () => void;
      const reached = new Promise<void>((resolve) => {
        reachedSet = resolve;
      });
      // A rotation function deployed through the endpoint's IAM and Lambda, which Secrets Manager
      // may invoke: it holds at setSecret, then hands each step to the suite's rotation function.
      const heldArn = await aws.deployFunction(
        'RevokeTest-held-rotation',
        async (event) => {
          const step = (event as { Step?: string }).Step;
          if (step === 'setSecret') {
            reachedSet();
            await gate;
          }
          const answer = await invokeFunction(aws, suite.rotationFunctionArn, event);
          if (!answer.ok) throw new Error(answer.errorMessage);
          return undefined;
        },
        { invokedBy: 'secretsmanager.amazonaws.com' },
      );
      await suite.secretsManager.send(
        new RotateSecretCommand({
          SecretId: secret.arn,
          RotationLambdaARN: heldArn,
          RotateImmediately: true,
        }),
      );
      await reached;
      const pendingToken = JSON.parse(await value(secret.arn, { stage: STAGE.pending })).token;

      // Act
      const outcome = await invokeRevoke({
        secretId: secret.arn,
        reason: 'leaked mid-rotation',
      }).finally(release);
      await aws.idle();

      // Assess
      expect(outcome).toMatchObject({ status: 'completed' });
      const revokedStages = (outcome as { revoked: { stages: string[] }[] }).revoked.map(
        (v) => v.stages,
      );
      expect(revokedStages).toContainEqual([STAGE.pending]);
      const { stages } = await describeSecret(secret.arn);
      expect(Object.keys(stages)).toEqual([(outcome as { newVersionId: string }).newVersionId]);
      expect(stages[(outcome as { newVersionId: string }).newVersionId]).toEqual([STAGE.current]);
      for (const staged of await stagedValues(secret.arn))
        expect(staged).not.toContain(pendingToken);
      expect((await aws.rotations(secret.arn)).at(-1)!.outcome).not.toBe('succeeded');
    });
  });
});
