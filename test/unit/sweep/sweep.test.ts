import { describe, expect, it } from 'vitest';
import { InvalidNextTokenError, InvalidRequestError, NotFoundError } from '#domain/errors';
import { createPacer } from '#domain/pacer';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '#domain/policy';
import type {
  Alert,
  Alerter,
  AuditEntry,
  AuditLog,
  AuditRecord,
  Issuer,
  RevokeRequester,
  SecretCatalog,
  SecretDescription,
  SecretPage,
  SecretStore,
  SweepCursor,
  SweepCursorStore,
  TagRevokeRequest,
} from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import { runSweep, type SweepDeps, tagRevokeRequestId } from '#domain/sweep/index';
import { TAG } from '#domain/vocabulary';

const OURS = 'arn:aws:lambda:eu-west-1:111122223333:function:token-rotation-Rotate';
const START = new Date('2030-03-10T12:00:00Z').getTime();
const WEEK = scheduleFor(7 * DAY_MS);
const PREVIOUS_VALUE = 'acme_live_Q2hvb3NlQVN0cm9uZ1Bhc3N3b3JkMTIzNDU2';

// ---- fakes: small, in-memory, recording what the sweep asked for ----

class World {
  now = START;
  secrets: SecretDescription[] = [];
  versionDates: Record<string, Record<string, Date>> = {};
  values: Record<string, Record<string, string>> = {};
  calls: string[] = [];
  failOn = new Set<string>();
  /** Time each rotate/cancel takes, to make sweeps run out of time. */
  callCostMs = 0;
  clock = () => new Date(this.now);

  add(
    name: string,
    over: Partial<SecretDescription> = {},
    dates: Record<string, number> = { cur: DAY_MS },
  ) {
    const arn = `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}-AbCdEf`;
    this.secrets.push({
      arn,
      name,
      rotationEnabled: true,
      rotationLambdaArn: OURS,
      rotationRules: { scheduleExpression: WEEK.scheduleExpression, duration: WEEK.duration },
      lastRotatedDate: new Date(this.now - DAY_MS),
      createdDate: new Date(this.now - 100 * DAY_MS),
      versions: { cur: ['AWSCURRENT'] },
      tags: { [TAG.lifespan]: '7d' },
      ...over,
    });
    this.versionDates[arn] = Object.fromEntries(
      Object.entries(dates).map(([v, age]) => [v, new Date(this.now - age)]),
    );
    return arn;
  }
  find(arn: string) {
    const secret = this.secrets.find((s) => s.arn === arn);
    if (!secret) throw new NotFoundError(`no secret ${arn}`);
    return secret;
  }
  call(what: string, arn: string) {
    this.calls.push(`${what} ${this.find(arn).name}`);
    if (this.failOn.has(`${what} ${this.find(arn).name}`))
      throw new Error(`${what} failed for ${this.find(arn).name}`);
  }
}

function catalogOf(
  world: World,
  pageSize = 100,
): SecretCatalog & { listCalls: (string | undefined)[] } {
  const listCalls: (string | undefined)[] = [];
  return {
    listCalls,
    async listTagged(tagKey: string, nextToken?: string): Promise<SecretPage> {
      listCalls.push(nextToken);
      if (nextToken !== undefined && !/^\d+$/.test(nextToken)) {
        throw new InvalidNextTokenError('The NextToken value is invalid.');
      }
      const from = Number(nextToken ?? 0);
      const tagged = world.secrets.filter((s) => tagKey in s.tags);
      const page: SecretPage = {
        secrets: tagged.slice(from, from + pageSize).map((s) => structuredClone(s)),
      };
      if (from + pageSize < tagged.length) page.nextToken = String(from + pageSize);
      return page;
    },
    async versionDates(secretId) {
      world.call('versionDates', secretId);
      return world.versionDates[secretId] ?? {};
    },
    async rotate(secretId, options) {
      world.now += world.callCostMs;
      world.call(options.immediately ? 'rotateNow' : 'schedule', secretId);
      const secret = world.find(secretId);
      if (options.lambdaArn) {
        secret.rotationEnabled = true;
        secret.rotationLambdaArn = options.lambdaArn;
        secret.rotationRules = {
          scheduleExpression: options.scheduleExpression,
          duration: options.duration,
        };
      }
    },
    async cancelRotation(secretId) {
      world.call('cancel', secretId);
      world.find(secretId).rotationEnabled = false;
    },
    async tag() {},
    async untag() {},
  };
}

function storeOf(world: World): SecretStore {
  return {
    async describe(secretId) {
      return world.find(secretId);
    },
    async getValue(secretId, select = {}) {
      return world.values[secretId]?.[select.versionId ?? ''];
    },
    async putPending() {
      throw new Error('the sweep never writes values');
    },
    async versionCreated(secretId, versionId) {
      return world.versionDates[secretId]?.[versionId];
    },
    async moveStage(secretId, stage, to, from) {
      world.call(`moveStage ${stage} ${to ?? '-'} ${from ?? '-'}`, secretId);
      const secret = world.find(secretId);
      if (from) secret.versions[from] = (secret.versions[from] ?? []).filter((s) => s !== stage);
    },
  };
}

class MemoryAudit implements AuditLog {
  entries: AuditEntry[] = [];
  async append(entry: AuditEntry): Promise<AuditRecord> {
    this.entries.push(entry);
    return {
      ...entry,
      seq: this.entries.length,
      at: new Date(START).toISOString(),
      prevHash: '',
      hash: '',
    };
  }
  async history() {
    return [];
  }
  async between() {
    return [];
  }
  async ofType() {
    return [];
  }
  events(name?: string) {
    return this.entries
      .filter((e) => name === undefined || e.secretName === name)
      .map((e) => `${e.event}:${e.outcome}`);
  }
}

/** De-duplicates by secret, event and incident, as the SNS alerter's marks do. */
class MemoryAlerter implements Alerter {
  sent: Alert[] = [];
  private seen = new Set<string>();
  async send(alert: Alert): Promise<'sent' | 'duplicate'> {
    const key = `${alert.secretArn}|${alert.event}|${alert.incident}`;
    if (this.seen.has(key)) return 'duplicate';
    this.seen.add(key);
    this.sent.push(alert);
    return 'sent';
  }
}

class MemoryCursor implements SweepCursorStore {
  saved: SweepCursor | undefined;
  async get() {
    return this.saved;
  }
  async put(cursor: SweepCursor) {
    this.saved = structuredClone(cursor);
  }
  async clear() {
    this.saved = undefined;
  }
}

function issuerFor(world: World) {
  return (kind: string | undefined, secret: { arn: string; name: string }): Issuer => ({
    kind: kind ?? 'random',
    async mint() {
      throw new Error('the sweep never mints');
    },
    async verify() {},
    async revoke({ value }) {
      world.call('revoke', secret.arn);
      if (world.failOn.has(`issuer ${secret.name}`))
        throw new Error(`issuer refused to revoke ${value}`);
    },
    name: (value) => `fp:${value.length}`,
  });
}

function setup(world = new World(), pageSize = 100) {
  const catalog = catalogOf(world, pageSize);
  const audit = new MemoryAudit();
  const alerter = new MemoryAlerter();
  const cursor = new MemoryCursor();
  const deps: SweepDeps = {
    catalog,
    store: storeOf(world),
    audit,
    alerter,
    issuerFor: issuerFor(world),
    clock: world.clock,
    cursor,
    pace: (call) => call(),
  };
  // One secret at a time unless a test says otherwise: most read the calls in order.
  const sweep = (deadlineInMs = 10 * MINUTE_MS, concurrency = 1) =>
    runSweep(deps, {
      rotationFunctionArn: OURS,
      sweepIntervalMs: 15 * MINUTE_MS,
      deadline: new Date(world.now + deadlineInMs),
      concurrency,
    });
  return { world, catalog, audit, alerter, cursor, deps, sweep };
}

/** Secrets Manager answering every third RotateSecret with a throttle. */
function throttleEveryThirdRotate(deps: ReturnType<typeof setup>['deps']) {
  const rotate = deps.catalog.rotate.bind(deps.catalog);
  let n = 0;
  deps.catalog.rotate = async (id, options) => {
    if (++n % 3 === 0)
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    return rotate(id, options);
  };
}

/** `count` secrets `late0`… whose tokens are 9 days old (overdue under the default policy). */
function addOverdue(world: World, count: number) {
  for (let i = 0; i < count; i++) {
    world.add(
      `late${i}`,
      { lastRotatedDate: new Date(world.now - 9 * DAY_MS) },
      { cur: 9 * DAY_MS },
    );
  }
}

describe('the lifespan sweep', () => {
  it('attaches, rotates the overdue, revokes past-grace previous tokens and leaves the rest alone', async () => {
    // Prepare
    const { world, audit, alerter, cursor, sweep } = setup();
    world.add('fine');
    world.add('new', {
      rotationEnabled: false,
      rotationLambdaArn: undefined,
      rotationRules: undefined,
    });
    world.add('late', { lastRotatedDate: new Date(world.now - 8 * DAY_MS) }, { cur: 8 * DAY_MS });
    const prev = world.add(
      'prev',
      {
        versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
        lastRotatedDate: new Date(world.now - 3 * HOUR_MS),
      },
      { cur: 3 * HOUR_MS, old: 8 * DAY_MS },
    );
    world.values[prev] = { old: PREVIOUS_VALUE };
    world.add('untagged', { tags: {} });

    // Act
    const report = await sweep();

    // Assess
    expect(report).toMatchObject({
      complete: true,
      pages: 1,
      secrets: 4,
      versionDateLookups: 2,
      failureCount: 0,
    });
    expect(report.actions).toEqual({ attach: 1, 'lifespan-overdue': 1, 'revoke-previous': 1 });
    expect(world.calls).toEqual([
      'schedule new',
      'versionDates late',
      'rotateNow late',
      'versionDates prev',
      'revoke prev',
      'moveStage AWSPREVIOUS - old prev',
    ]);
    expect(world.find(world.secrets[1]!.arn).rotationRules).toEqual({
      scheduleExpression: 'rate(6 days)',
      duration: '23h',
    });
    expect(audit.events('new')).toEqual(['rotation.attached:succeeded']);
    expect(audit.events('late')).toEqual([
      'lifespan.overdue:reported',
      'rotation.requested:succeeded',
    ]);
    expect(audit.events('prev')).toEqual(['previous.revoked:succeeded']);
    expect(audit.entries.find((e) => e.event === 'previous.revoked')).toMatchObject({
      versions: { previous: 'old' },
      tokens: { previous: `fp:${PREVIOUS_VALUE.length}` },
      trigger: { source: 'schedule' },
    });
    expect(
      alerter.sent.map((a) => `${a.event} ${a.secretName} ${a.incident} ${a.severity}`),
    ).toEqual(['lifespan.overdue late cur warning']);
    expect(JSON.stringify([audit.entries, alerter.sent, report])).not.toContain(PREVIOUS_VALUE);
    expect(cursor.saved).toBeUndefined();
  });

  it('uses one listing call per 100 secrets and no version lookups for secrets within their lifespan', async () => {
    const { world, catalog, sweep } = setup();
    for (let i = 0; i < 250; i++) world.add(`s${i}`);
    const report = await sweep();
    expect(catalog.listCalls).toEqual([undefined, '100', '200']);
    expect(report).toMatchObject({ complete: true, pages: 3, secrets: 250, versionDateLookups: 0 });
    expect(world.calls).toEqual([]);
  });

  it('saves where it stopped at its deadline and the next sweep carries on from there', async () => {
    // Prepare: 250 secrets to attach, each attach taking a second; 130 seconds per sweep.
    const { world, cursor, catalog, audit, sweep } = setup();
    for (let i = 0; i < 250; i++) world.add(`s${i}`, { rotationEnabled: false });
    world.callCostMs = 1000;

    // Act
    const first = await sweep(130_000);
    const second = await sweep(130_000);

    // Assess: the first stops on page 2 and the second starts exactly there.
    expect(first.complete).toBe(false);
    expect(first.stoppedAt).toEqual({
      nextToken: '100',
      position: 30,
      doneOnPage: world.secrets.slice(100, 130).map((s) => s.arn),
      startedAt: new Date(START).toISOString(),
      backlog: 120,
    });
    expect(second.resumedFrom).toEqual(first.stoppedAt);
    expect(second.complete).toBe(true);
    // The first counted what it left (reading the last page ahead): 70 + 50.
    expect(first.backlog).toBe(120);
    expect(second.backlog).toBe(0);
    expect(catalog.listCalls).toEqual([undefined, '100', '200', '100', '200']);
    expect(cursor.saved).toBeUndefined();
    // Everyone attached exactly once across the two invocations.
    const attached = audit.entries
      .filter((e) => e.event === 'rotation.attached')
      .map((e) => e.secretName);
    expect(attached).toHaveLength(250);
    expect(new Set(attached).size).toBe(250);
  });

  it('carries on by what it did, not by position, when the page listed again shows other secrets', async () => {
    // Prepare: as the saved-cursor test, but ListSecrets is eventually consistent: the first
    // listing of page 2 leaves out s100-s104 (just created), the next one leaves out what the
    // first invocation attached there (just changed) and shows s100-s104 again.
    const { world, deps, audit, sweep } = setup();
    for (let i = 0; i < 250; i++) world.add(`s${i}`, { rotationEnabled: false });
    world.callCostMs = 1000;
    const list = deps.catalog.listTagged.bind(deps.catalog);
    let hidden = new Set(Array.from({ length: 5 }, (_, i) => `s${100 + i}`));
    deps.catalog.listTagged = async (tagKey, nextToken) => {
      const page = await list(tagKey, nextToken);
      return { ...page, secrets: page.secrets.filter((s) => !hidden.has(s.name)) };
    };
    const attached = () =>
      audit.entries.filter((e) => e.event === 'rotation.attached').map((e) => e.secretName!);

    // Act
    const first = await sweep(130_000);
    hidden = new Set(attached().filter((name) => Number(name.slice(1)) >= 100));
    const second = await sweep(130_000);

    // Assess: the first stopped part-way through page 2; across both, every secret attached once
    expect(first.complete).toBe(false);
    expect(hidden.size).toBeGreaterThan(0);
    expect(second.complete).toBe(true);
    expect(new Set(attached()).size).toBe(250);
    expect(attached()).toHaveLength(250);
    expect(first.stoppedAt?.doneOnPage).toHaveLength(hidden.size);
  });

  it('saves its cursor without listing when it starts past its deadline', async () => {
    const { world, catalog, cursor, sweep } = setup();
    world.add('a');
    const report = await sweep(0);
    expect(report.complete).toBe(false);
    expect(catalog.listCalls).toEqual([]);
    expect(cursor.saved).toEqual({ position: 0, startedAt: new Date(START).toISOString() });
  });

  it('starts from the first page when its saved cursor is no longer accepted', async () => {
    const { world, catalog, cursor, sweep } = setup();
    world.add('a', { rotationEnabled: false });
    cursor.saved = {
      nextToken: 'expired-token',
      position: 42,
      startedAt: new Date(START - HOUR_MS).toISOString(),
    };
    const report = await sweep();
    expect(catalog.listCalls).toEqual(['expired-token', undefined]);
    expect(report.complete).toBe(true);
    expect(world.calls).toEqual(['schedule a']);
  });

  it('fails the sweep when listing fails for another reason, keeping its cursor for the next one', async () => {
    const { deps, cursor, sweep } = setup();
    const saved = { nextToken: '100', position: 3, startedAt: new Date(START).toISOString() };
    cursor.saved = saved;
    deps.catalog.listTagged = async () => {
      throw Object.assign(new Error('Access denied'), { name: 'AccessDeniedException' });
    };
    await expect(sweep()).rejects.toThrow('Access denied');
    expect(cursor.saved).toEqual(saved);
  });

  it('does not let one secret’s failure stop the others', async () => {
    // Prepare
    const { world, audit, alerter, sweep } = setup();
    world.add('attach-fails', { rotationEnabled: false });
    world.add('ok-1', { rotationEnabled: false });
    const prev = world.add(
      'revoke-fails',
      {
        versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
        lastRotatedDate: new Date(world.now - DAY_MS),
      },
      { cur: DAY_MS, old: 9 * DAY_MS },
    );
    world.values[prev] = { old: PREVIOUS_VALUE };
    world.add('dates-fail', { lastRotatedDate: new Date(world.now - 9 * DAY_MS) });
    world.add('ok-2', { rotationEnabled: false });
    world.failOn = new Set([
      'schedule attach-fails',
      'issuer revoke-fails',
      'versionDates dates-fail',
    ]);

    // Act
    const report = await sweep();

    // Assess
    expect(report.complete).toBe(true);
    expect(report.failureCount).toBe(3);
    expect(report.failures.map((f) => `${f.secretName} ${f.action}`)).toEqual([
      'attach-fails attach',
      'revoke-fails revoke-previous',
      'dates-fail plan',
    ]);
    expect(audit.events('ok-1')).toEqual(['rotation.attached:succeeded']);
    expect(audit.events('ok-2')).toEqual(['rotation.attached:succeeded']);
    expect(audit.events('attach-fails')).toEqual(['rotation.attached:failed']);
    expect(audit.events('revoke-fails')).toEqual(['previous.revoke.failed:failed']);
    // The previous version keeps its label, so the next sweep tries again.
    expect(world.find(prev).versions.old).toEqual(['AWSPREVIOUS']);
    expect(alerter.sent.map((a) => `${a.event} ${a.secretName}`)).toEqual([
      'previous.revoke.failed revoke-fails',
    ]);
    // The issuer's error quoted the token; nothing the sweep wrote does.
    expect(JSON.stringify([audit.entries, alerter.sent, report])).not.toContain(PREVIOUS_VALUE);
    expect(report.failures[1]?.error).toContain('[redacted]');
  });

  it('fails a previous-token revoke with an alert and record stating the stages as read back after it', async () => {
    // Prepare: a rotation moves the labels while the issuer call that fails is under way.
    const { world, audit, alerter, deps, sweep } = setup();
    const prev = world.add(
      'revoke-fails',
      { versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] } },
      { cur: DAY_MS, old: 9 * DAY_MS },
    );
    world.values[prev] = { old: PREVIOUS_VALUE };
    world.failOn = new Set(['issuer revoke-fails']);
    const revoke = deps.issuerFor;
    deps.issuerFor = (kind, secret) => {
      const issuer = revoke(kind, secret);
      return {
        ...issuer,
        async revoke(ctx) {
          world.find(prev).versions = { next: ['AWSCURRENT'], cur: ['AWSPREVIOUS'], old: [] };
          return issuer.revoke(ctx);
        },
      };
    };

    // Act
    await sweep();

    // Assess
    const alert = alerter.sent.find((a) => a.event === 'previous.revoke.failed')!;
    expect(alert.nextSteps).toContain(
      'Stages read after the failure: AWSCURRENT on version next; AWSPREVIOUS on version cur.',
    );
    const record = audit.entries.find((e) => e.event === 'previous.revoke.failed')!;
    expect(record.detail?.stagesAfter).toBe(
      'AWSCURRENT on version next; AWSPREVIOUS on version cur',
    );
  });

  it('fails a previous-token revoke saying the stages could not be read back when that read fails too', async () => {
    // Prepare
    const { world, alerter, deps, sweep } = setup();
    const prev = world.add(
      'revoke-fails',
      { versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] } },
      { cur: DAY_MS, old: 9 * DAY_MS },
    );
    world.values[prev] = { old: PREVIOUS_VALUE };
    world.failOn = new Set(['issuer revoke-fails']);
    const describe = deps.store.describe.bind(deps.store);
    deps.store.describe = async (id) => {
      if (world.calls.includes('revoke revoke-fails')) throw new Error('Rate exceeded');
      return describe(id);
    };

    // Act
    await sweep();

    // Assess
    const alert = alerter.sent.find((a) => a.event === 'previous.revoke.failed')!;
    const body = alert.nextSteps.join('\n');
    expect(body).toContain('stages could not be read back (Rate exceeded)');
    expect(body).not.toContain('Stages read after the failure');
  });

  it('alerts once per incident across sweeps, and again when the incident changes', async () => {
    // Prepare
    const { world, audit, alerter, sweep } = setup();
    const bad = world.add('bad-tag', { tags: { [TAG.lifespan]: 'banana' } });
    world.add(
      'stuck',
      { versions: { cur: ['AWSCURRENT'], next: ['AWSPENDING'] } },
      { cur: DAY_MS, next: 3 * HOUR_MS },
    );
    const prev = world.add(
      'revoke-fails',
      { versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] } },
      { cur: DAY_MS, old: 9 * DAY_MS },
    );
    world.values[prev] = { old: PREVIOUS_VALUE };
    world.failOn = new Set(['issuer revoke-fails']);

    // Act: three sweeps, 15 minutes apart.
    for (let i = 0; i < 3; i++) {
      await sweep();
      world.now += 15 * MINUTE_MS;
    }

    // Assess: one alert and one audit record per incident, though all three persist.
    expect(alerter.sent.map((a) => `${a.event} ${a.secretName}`).sort()).toEqual([
      'policy.invalid bad-tag',
      'previous.revoke.failed revoke-fails',
      'rotation.stuck stuck',
    ]);
    expect(audit.events('bad-tag')).toEqual(['policy.invalid:reported']);
    expect(audit.events('stuck')).toEqual(['rotation.stuck:reported']);
    expect(audit.events('revoke-fails')).toEqual(['previous.revoke.failed:failed']);
    expect(world.calls.filter((c) => c === 'revoke revoke-fails')).toHaveLength(3);
    const policyAlert = alerter.sent.find((a) => a.event === 'policy.invalid');
    expect(policyAlert?.reason).toContain('token-rotation:lifespan is "banana"');
    expect(policyAlert?.severity).toBe('warning');

    // Act: the tag is changed to another bad value.
    world.find(bad).tags[TAG.lifespan] = '3h';
    await sweep();

    // Assess: a new incident, a new alert.
    expect(alerter.sent.filter((a) => a.event === 'policy.invalid')).toHaveLength(2);
    expect(audit.events('bad-tag')).toEqual(['policy.invalid:reported', 'policy.invalid:reported']);
  });

  it('never changes the rotation of a secret rotated by another function, but rotates it when overdue', async () => {
    const { world, audit, sweep } = setup();
    world.add(
      'rds',
      {
        rotationLambdaArn:
          'arn:aws:lambda:eu-west-1:111122223333:function:SecretsManagerRDSRotation',
        rotationRules: { automaticallyAfterDays: 30 },
        versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
        lastRotatedDate: new Date(world.now - 20 * DAY_MS),
      },
      { cur: 20 * DAY_MS, old: 50 * DAY_MS },
    );
    const report = await sweep();
    expect(world.calls).toEqual(['versionDates rds', 'rotateNow rds']);
    expect(report.actions).toEqual({ 'foreign-rotation': 1, 'lifespan-overdue': 1 });
    expect(audit.events('rds')).toEqual([
      'lifespan.overdue:reported',
      'rotation.requested:succeeded',
    ]);
  });

  it('keeps going when the alerter fails, and records that it did', async () => {
    const { world, deps, audit, sweep } = setup();
    world.add('late', { lastRotatedDate: new Date(world.now - 8 * DAY_MS) }, { cur: 8 * DAY_MS });
    deps.alerter.send = async () => {
      throw new Error('SNS is down');
    };
    const report = await sweep();
    expect(world.calls).toContain('rotateNow late');
    expect(audit.events('late')).toEqual([
      'lifespan.overdue:reported',
      'rotation.requested:succeeded',
    ]);
    expect(report.failures.map((f) => `${f.secretName} ${f.action} ${f.error}`)).toEqual([
      'late alert SNS is down',
    ]);
  });

  it('finishes correctly under throttling, pacing and retrying its calls', async () => {
    // Prepare: Secrets Manager throttles every third RotateSecret.
    const { world, deps, audit, sweep } = setup();
    for (let i = 0; i < 60; i++) world.add(`s${i}`, { rotationEnabled: false });
    const sleep = async (ms: number) => {
      world.now += ms;
    };
    deps.pace = createPacer({ now: () => world.now, sleep });
    throttleEveryThirdRotate(deps);

    // Act
    const report = await sweep(HOUR_MS);

    // Assess
    expect(report).toMatchObject({ complete: true, failureCount: 0 });
    const attached = audit.entries.filter(
      (e) => e.event === 'rotation.attached' && e.outcome === 'succeeded',
    );
    expect(new Set(attached.map((e) => e.secretName)).size).toBe(60);
    expect(world.secrets.every((s) => s.rotationEnabled)).toBe(true);
  });
});

/** Records what the sweep handed over; fails while `down` is set, as an unreachable Lambda would. */
class RecordingRequester implements RevokeRequester {
  requests: TagRevokeRequest[] = [];
  down: Error | undefined;
  async requestRevoke(request: TagRevokeRequest): Promise<void> {
    if (this.down) throw this.down;
    this.requests.push(structuredClone(request));
  }
}

describe('revoke tags the sweep finds', () => {
  const LEAKED = { [TAG.lifespan]: '7d', [TAG.revoke]: 'key pasted in #general' };

  it('hands the tag to the revoke function once per sweep, and does nothing else to the secret', async () => {
    // Prepare: an overdue secret with a revoke tag, listed twice (the listing changed under the
    // sweep between pages), and an ordinary one.
    const { world, deps, audit, alerter, sweep } = setup(new World(), 1);
    const revokes = new RecordingRequester();
    deps.revokes = revokes;
    const leaked = world.add(
      'leaked',
      { tags: LEAKED, lastRotatedDate: new Date(world.now - 9 * DAY_MS) },
      { cur: 9 * DAY_MS },
    );
    world.secrets.push(structuredClone(world.find(leaked)));
    world.add('fine');

    // Act
    const report = await sweep();

    // Assess: the second listing of the same secret is not looked at again.
    expect(report).toMatchObject({ complete: true, failureCount: 0, secrets: 2 });
    expect(revokes.requests).toEqual([
      {
        secretArn: leaked,
        reason: 'key pasted in #general',
        requestId: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    ]);
    expect(world.calls).toEqual([]);
    expect(alerter.sent).toEqual([]);
    expect(audit.events('leaked')).toEqual(['revoke.handed-over:succeeded']);
    expect(audit.entries[0]).toMatchObject({
      secretArn: leaked,
      trigger: { source: 'schedule' },
      detail: {
        reason: 'key pasted in #general',
        mode: 'reissue',
        requestId: revokes.requests[0]!.requestId,
      },
    });
  });

  it('hands the same tag over again at the next sweep as the same request, and a new tag after a revoke as a new one', async () => {
    // Prepare
    const { world, deps, sweep } = setup();
    const revokes = new RecordingRequester();
    deps.revokes = revokes;
    const leaked = world.add('leaked', { tags: { ...LEAKED } });

    // Act: the revoke never ran; then one completed (last-revoked set) and the tag was set again.
    await sweep();
    world.now += 15 * MINUTE_MS;
    await sweep();
    world.find(leaked).tags[TAG.lastRevoked] = new Date(world.now).toISOString();
    world.now += 15 * MINUTE_MS;
    await sweep();

    // Assess
    const [first, second, third] = revokes.requests.map((r) => r.requestId);
    expect(revokes.requests).toHaveLength(3);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    expect(third).toBe(tagRevokeRequestId(world.find(leaked)));
  });

  it('leaves revoke tags alone when it has no revoke requester, as before', async () => {
    // Prepare
    const { world, audit, sweep } = setup();
    world.add('leaked', { tags: LEAKED, rotationEnabled: false });

    // Act
    const report = await sweep();

    // Assess
    expect(report).toMatchObject({ failureCount: 0, actions: { 'revoke-requested': 1 } });
    expect(world.calls).toEqual([]);
    expect(audit.entries).toEqual([]);
  });

  it('fails for that secret when the revoke function cannot be reached, and goes on with the others', async () => {
    // Prepare
    const { world, deps, audit, sweep } = setup();
    const revokes = new RecordingRequester();
    revokes.down = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    deps.revokes = revokes;
    world.add('leaked', { tags: LEAKED });
    world.add('new', { rotationEnabled: false });

    // Act
    const report = await sweep();

    // Assess
    expect(report.complete).toBe(true);
    expect(report.failureCount).toBe(1);
    expect(report.failures.map((f) => `${f.secretName} ${f.action} ${f.error}`)).toEqual([
      'leaked revoke-requested TooManyRequestsException: Rate exceeded',
    ]);
    expect(audit.events('leaked')).toEqual(['revoke.handed-over:failed']);
    expect(audit.entries[0]?.error).toContain('Rate exceeded');
    expect(audit.events('new')).toEqual(['rotation.attached:succeeded']);
  });
});

describe('revoking a previous token that the live version may also hold', () => {
  /** A custom issuer whose tokens carry no name (no keyId), as a careless issuer returns them. */
  function unnamedIssuer(world: World) {
    return (kind: string | undefined, secret: { arn: string; name: string }): Issuer => ({
      ...issuerFor(world)(kind, secret),
      kind: 'lambda:acme-issuer',
      name: () => 'unnamed',
    });
  }

  function pastGrace(world: World) {
    const arn = world.add(
      'acme',
      {
        versions: { cur: ['AWSCURRENT'], old: ['AWSPREVIOUS'] },
        lastRotatedDate: new Date(world.now - 3 * HOUR_MS),
        tags: { [TAG.lifespan]: '7d', [TAG.kind]: 'lambda:acme-issuer' },
      },
      { cur: 3 * HOUR_MS, old: 8 * DAY_MS },
    );
    return arn;
  }

  it("sends an unnamed key to the issuer with the live value, never judging from its shape (a notes edit is the issuer's call)", async () => {
    // Prepare: someone edited a notes field in the console; the kind's contract names no token
    const { world, deps, audit, sweep } = setup();
    deps.issuerFor = unnamedIssuer(world);
    const arn = pastGrace(world);
    world.values[arn] = {
      old: '{"apiKey":"sk_live_4eC39HqLyjWDarjtT1zdp7dc","notes":"before"}',
      '': '{"apiKey":"sk_live_4eC39HqLyjWDarjtT1zdp7dc","notes":"after"}',
    };

    // Act
    await sweep();

    // Assess: the issuer was asked, and the record says who decided
    expect(world.calls).toContain('revoke acme');
    expect(audit.entries.find((e) => e.event === 'previous.revoked')?.detail).toMatchObject({
      notLiveBy: 'the issuer, given the live value',
    });
  });

  it('revokes an unnamed key at the issuer once a rotation replaced it', async () => {
    // Prepare
    const { world, deps, audit, sweep } = setup();
    deps.issuerFor = unnamedIssuer(world);
    const arn = pastGrace(world);
    world.values[arn] = {
      old: '{"apiKey":"sk_live_4eC39HqLyjWDarjtT1zdp7dc","notes":"n"}',
      '': '{"apiKey":"sk_live_9xQ27PmWvbTKeaZrR4ncs1fg","notes":"n"}',
    };

    // Act
    await sweep();

    // Assess
    expect(world.calls).toContain('revoke acme');
    expect(audit.events('acme')).toEqual(['previous.revoked:succeeded']);
  });

  it('skips, alerted, without revoking at the issuer when the live version holds the very same value', async () => {
    // Prepare
    const { world, deps, audit, alerter, sweep } = setup();
    deps.issuerFor = unnamedIssuer(world);
    const arn = pastGrace(world);
    world.values[arn] = { old: '{"apiKey":"k-1"}', '': '{"apiKey":"k-1"}' };

    // Act
    await sweep();

    // Assess: not revoked, and said so: skipped with its reason, alerted, never "revoked"
    expect(world.calls).not.toContain('revoke acme');
    expect(world.calls).toContain('moveStage AWSPREVIOUS - old acme');
    expect(audit.events('acme')).toEqual(['previous.revoke.skipped:skipped']);
    expect(alerter.sent.map((a) => a.event)).toEqual(['previous.revoke.skipped']);
  });
});

describe('an overdue secret whose rotation keeps failing to start', () => {
  it('audits and alerts lifespan.overdue once, and audits every attempt to rotate it', async () => {
    // Prepare: RotateSecret is refused (e.g. another function's rotation we may not invoke)
    const { world, audit, alerter, sweep } = setup();
    world.add(
      'stubborn',
      { lastRotatedDate: new Date(world.now - 9 * DAY_MS) },
      { cur: 9 * DAY_MS },
    );
    world.failOn.add('rotateNow stubborn');

    // Act
    for (let i = 0; i < 3; i++) {
      await sweep();
      world.now += 15 * MINUTE_MS;
    }

    // Assess
    expect(audit.events('stubborn')).toEqual([
      'lifespan.overdue:reported',
      'rotation.requested:failed',
      'rotation.requested:failed',
      'rotation.requested:failed',
    ]);
    expect(alerter.sent.map((a) => a.event)).toEqual(['lifespan.overdue']);
  });
});

describe('an empty revoke tag', () => {
  it('is reported once as policy.invalid and never handed over, while the lifespan is still enforced', async () => {
    // Prepare: an overdue secret someone tagged token-rotation:revoke with no reason
    const { world, deps, audit, alerter, sweep } = setup();
    const revokes = new RecordingRequester();
    deps.revokes = revokes;
    world.add(
      'blank',
      {
        lastRotatedDate: new Date(world.now - 9 * DAY_MS),
        tags: { [TAG.lifespan]: '7d', [TAG.revoke]: '' },
      },
      { cur: 9 * DAY_MS },
    );

    // Act
    await sweep();
    world.now += 15 * MINUTE_MS;
    await sweep();

    // Assess
    expect(revokes.requests).toEqual([]);
    expect(alerter.sent.filter((a) => a.event === 'policy.invalid')).toHaveLength(1);
    expect(audit.events('blank').filter((e) => e.startsWith('policy.invalid'))).toHaveLength(1);
    expect(world.calls).toContain('rotateNow blank');
  });
});

describe('one rotation per due secret', () => {
  it('attaches rotation to an overdue secret and rotates it in one RotateSecret call', async () => {
    // Prepare: overdue, and rotation was never attached
    const { world, audit, sweep } = setup();
    world.add(
      'unattached',
      {
        rotationEnabled: false,
        rotationLambdaArn: undefined,
        rotationRules: undefined,
        lastRotatedDate: undefined,
      },
      { cur: 9 * DAY_MS },
    );

    // Act
    const report = await sweep();

    // Assess: one rotate request, with our function and the lifespan's schedule, rotating now
    expect(report.failureCount).toBe(0);
    expect(world.calls.filter((c) => /^(rotateNow|schedule) /.test(c))).toEqual([
      'rotateNow unattached',
    ]);
    expect(world.find(world.secrets[0]!.arn).rotationLambdaArn).toBe(OURS);
    expect(audit.events('unattached')).toEqual([
      'rotation.attached:succeeded',
      'lifespan.overdue:reported',
    ]);
    expect(audit.entries.find((e) => e.event === 'rotation.attached')?.detail).toMatchObject({
      rotating: 'lifespan.overdue',
    });
  });

  it('leaves a secret whose rotation is already under way to the next sweep, without a failure', async () => {
    // Prepare: the listing showed no AWSPENDING, but a scheduled rotation started since
    const { world, deps, audit, alerter, sweep } = setup();
    world.add('busy', { lastRotatedDate: new Date(world.now - 8 * DAY_MS) }, { cur: 8 * DAY_MS });
    const rotate = deps.catalog.rotate.bind(deps.catalog);
    deps.catalog.rotate = async (secretId, options) => {
      if (options.immediately) {
        throw new InvalidRequestError(
          "A previous rotation isn't complete. That rotation will be reattempted.",
        );
      }
      return rotate(secretId, options);
    };

    // Act
    const report = await sweep();

    // Assess: the overdue is reported; the refused rotate is neither a failure nor audited
    expect(report.failureCount).toBe(0);
    expect(report.failures).toEqual([]);
    expect(audit.events('busy')).toEqual(['lifespan.overdue:reported']);
    expect(alerter.sent.map((a) => a.event)).toEqual(['lifespan.overdue']);
  });
});

describe('many secrets due at once', () => {
  /** Makes every RotateSecret wait until released, counting how many are in flight at once. */
  function gateRotations(deps: SweepDeps) {
    const rotate = deps.catalog.rotate.bind(deps.catalog);
    const gate = { inFlight: 0, most: 0 };
    deps.catalog.rotate = async (id, options) => {
      gate.inFlight++;
      gate.most = Math.max(gate.most, gate.inFlight);
      // A turn of the event loop (no timer): every other worker gets to start its own meanwhile.
      await new Promise((resolve) => setImmediate(resolve));
      gate.inFlight--;
      return rotate(id, options);
    };
    return gate;
  }

  it('works on several secrets at once, never more than its concurrency, and attaches each once', async () => {
    // Prepare
    const { world, deps, audit, sweep } = setup(new World(), 25);
    for (let i = 0; i < 60; i++) world.add(`s${i}`, { rotationEnabled: false });
    const gate = gateRotations(deps);

    // Act
    const report = await sweep(HOUR_MS, 6);

    // Assess
    expect(report).toMatchObject({ complete: true, failureCount: 0, secrets: 60, backlog: 0 });
    expect(gate.most).toBe(6);
    const attached = audit.entries.filter((e) => e.event === 'rotation.attached');
    expect(attached).toHaveLength(60);
    expect(new Set(attached.map((e) => e.secretName)).size).toBe(60);
  });

  it('stops starting secrets at its deadline, finishes those in hand, and the next sweep carries on with the rest first', async () => {
    // Prepare: each attach takes a second of the clock; 40 seconds per sweep; 8 at once.
    const { world, deps, cursor, audit, sweep } = setup(new World(), 25);
    for (let i = 0; i < 100; i++) world.add(`s${i}`, { rotationEnabled: false });
    world.callCostMs = 1000;
    gateRotations(deps);

    // Act
    const first = await sweep(40_000, 8);
    const attachedFirst = audit.entries.map((e) => e.secretName);
    const second = await sweep(HOUR_MS, 8);

    // Assess: the first stopped at a clean line (everyone before it done, no one after it
    // started), counted the rest, and the second began exactly there.
    expect(first.complete).toBe(false);
    const { position, nextToken } = first.stoppedAt!;
    const doneFirst = Number(nextToken ?? 0) + position;
    expect(attachedFirst.sort()).toEqual(
      world.secrets
        .slice(0, doneFirst)
        .map((s) => s.name)
        .sort(),
    );
    expect(first.backlog).toBe(100 - doneFirst);
    expect(second).toMatchObject({ complete: true, secrets: 100 - doneFirst, failureCount: 0 });
    const attached = audit.entries.filter((e) => e.event === 'rotation.attached');
    expect(attached).toHaveLength(100);
    expect(new Set(attached.map((e) => e.secretName)).size).toBe(100);
    expect(cursor.saved).toBeUndefined();
  });

  it('sweeps a secret the listing shows twice once, with one RotateSecret', async () => {
    // Prepare: ListSecrets (eventually consistent) shows "late1" on both pages.
    const { world, deps, audit, sweep } = setup();
    addOverdue(world, 3);
    const [a, b, c] = world.secrets.map((s) => structuredClone(s));
    deps.catalog.listTagged = async (_tag, token) =>
      token === undefined ? { secrets: [a!, b!], nextToken: 'p2' } : { secrets: [b!, c!] };

    // Act
    const report = await sweep(HOUR_MS, 8);

    // Assess
    expect(report).toMatchObject({ complete: true, secrets: 3, failureCount: 0 });
    expect(world.calls.filter((call) => call.startsWith('rotateNow')).sort()).toEqual([
      'rotateNow late0',
      'rotateNow late1',
      'rotateNow late2',
    ]);
    expect(audit.events('late1')).toEqual([
      'lifespan.overdue:reported',
      'rotation.requested:succeeded',
    ]);
  });

  it('rotates every overdue secret without a failure when Secrets Manager throttles, 8 at a time', async () => {
    // Prepare: 80 overdue tokens; every third RotateSecret throttled.
    const { world, deps, audit, sweep } = setup();
    addOverdue(world, 80);
    deps.pace = createPacer({
      now: () => world.now,
      sleep: async (ms) => {
        world.now += ms;
      },
      random: () => 0.5,
    });
    throttleEveryThirdRotate(deps);

    // Act
    const report = await sweep(HOUR_MS, 8);

    // Assess: one successful RotateSecret per secret, no failure recorded anywhere.
    expect(report).toMatchObject({ complete: true, failureCount: 0 });
    expect(world.calls.filter((c) => c.startsWith('rotateNow')).sort()).toEqual(
      world.secrets.map((s) => `rotateNow ${s.name}`).sort(),
    );
    expect(audit.entries.filter((e) => e.outcome === 'failed')).toEqual([]);
  });
});
