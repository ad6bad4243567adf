// Lifespan enforcement end to end in a local AWS session (embedded, or behind AWS_ENDPOINT_URL):
// the real sweep and tag-event handlers, the real rotation function, the real SDK over HTTP, and
// the session's clock driving both Secrets Manager's scheduled rotations and the sweep. The stack's
// rules run at the endpoint and deliver tag events to the tag-event function, and the sweep hands
// revoke tags to the revoke function through the Lambda API; both are served from this process
// (Session.serveFunction). The sweep's handler runs here, as the schedule would invoke it, with a
// test pacer, a metrics sink and deterministic deadlines. Every AWS request of the test and the
// handlers goes to the session's endpoint. Token ages are measured here, from the versions'
// creation dates, independently of the code under test.

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoManagedSet } from '#adapters/dynamodb-managed-set';
import { DynamoSweepCursorStore } from '#adapters/dynamodb-sweep-cursor';
import { LambdaRevokeRequester } from '#adapters/lambda-revoke-requester';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { logger } from '#commons/logger';
import type { MetricsSink } from '#commons/metrics';
import { createPacer } from '#domain/pacer';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '#domain/policy';
import type { AuditRecord, ManagedSecret } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import type { SweepDeps } from '#domain/sweep/index';
import { TAG } from '#domain/vocabulary';
import { createRevokeHandler } from '#handlers/revoke';
import { createRevokeEventsHandler } from '#handlers/revoke-events';
import { createSweepHandler, type SweepSummary } from '#handlers/sweep';
import { createTagEventsHandler } from '#handlers/tag-events';
import type { FunctionHandler, LocalEvent } from '#local-aws/index';
import { seededRandom } from '#local-aws/random';
import { referenceRotation } from '#local-aws/reference-rotation';
import {
  needsSessions,
  openSession,
  type Session,
  type SessionAwsOptions,
  type SuiteAt,
} from './support/session.ts';

await needsSessions(
  import.meta.url,
  'a movable clock (days of scheduled rotations and sweeps in seconds), what SNS published, the Secrets Manager requests received and the rotations it ran, and the rules delivering tag events to, and Lambda invoking, the sweep, tag-event and revoke functions served from the test process',
  ['function-callbacks', 'rotations', 'sns-messages', 'secretsmanager-calls'],
);

logger.setLogLevel('ERROR');

const START = '2026-02-02T08:00:00.000Z';
const INTERVAL_MS = 15 * MINUTE_MS;
/** The four-week simulation's sweep interval (see there). */
const SIM_INTERVAL_MS = 60 * MINUTE_MS;
/** ListSecrets' modelled eventual consistency, pinned off (no window, no short pages). */
const CONSISTENT_LISTING = { seed: 0, lagMs: 0, shortPageChance: 0 };

/** A metrics sink that keeps what the handler emitted. */
function metricsRecorder() {
  const stored: { name: string; value: number }[] = [];
  const published: { name: string; value: number }[][] = [];
  const sink: MetricsSink = {
    addMetric: (name, _unit, value) => void stored.push({ name, value }),
    publishStoredMetrics: () => void published.push(stored.splice(0)),
  };
  return { sink, published };
}

interface World {
  session: Session;
  suite: SuiteAt;
  managed: DynamoManagedSet;
  cursor: DynamoSweepCursorStore;
  sweepDeps: SweepDeps;
  /**
   * Runs the sweep function's handler once; `budget` limits how many secrets it may start;
   * `settle: false` returns without waiting for what it set off.
   */
  sweep(options?: { budget?: number; settle?: boolean }): Promise<SweepSummary>;
  metrics: ReturnType<typeof metricsRecorder>;
  /** Stops handling tag events (a lost event); returns a function to resume. */
  loseTagEvents(): () => void;
  tagEventOutcomes: unknown[];
  /** The tag events the tag-event function handled, as they arrived. */
  tagEvents: LocalEvent[];
  /** What the functions served here threw (an event rule's delivery that failed). */
  failures: string[];
  /** The revoke function the sweep hands revoke tags to (with `revokes`), watched. */
  revoke: RevokeWatch;
}

/**
 * The suite's revoke function with what it answered to each invoke. Lambda answers an
 * asynchronous invoke before the function runs, so a test waits with `settled`; `hold` keeps
 * invokes waiting (a queued invoke not run yet) until the function it returns is called.
 */
interface RevokeWatch {
  outcomes: unknown[];
  settled(): Promise<void>;
  hold(): () => void;
}

async function watchRevokeFunction(session: Session): Promise<RevokeWatch> {
  const handler = createRevokeHandler(session.suite.revokeDeps);
  const running = new Set<Promise<unknown>>();
  const outcomes: unknown[] = [];
  let gate: Promise<void> | undefined;
  await session.serveFunction(session.suite.functions.revoke, (event, context) => {
    const run = (async () => {
      await gate;
      try {
        outcomes.push(await handler(event, context));
      } catch (error) {
        outcomes.push({ threw: (error as Error).message });
      }
    })();
    running.add(run);
    return run.finally(() => running.delete(run));
  });
  return {
    outcomes,
    settled: async () => {
      // The endpoint's idle waits for its queued invokes, which end when the function here has.
      await session.idle();
      while (running.size > 0) await Promise.allSettled([...running]);
      await session.idle();
    },
    hold: () => {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

let world: World | undefined;
afterEach(async () => {
  await world?.session.stop();
  world = undefined;
});

interface StartOptions {
  throttle?: Record<string, number>;
  fastPacer?: boolean;
  revokes?: boolean;
  /** Strongly consistent ListSecrets whatever LOCAL_AWS_LIST_CONSISTENCY_SEED says. */
  consistentListing?: boolean;
  /** The stack's sweep interval. Default the deployed 15 minutes. */
  intervalMs?: number;
}

/** The sweep's dependencies as the function builds them, with this test's pacer and clients. */
function sweepDepsFor(
  session: Session,
  options: StartOptions,
  stores: Pick<SweepDeps, 'cursor' | 'managed'>,
): SweepDeps {
  const { suite, clock } = session;
  // A simulation runs thousands of sweeps; the real pacing is exercised by the throttled test,
  // on the session's clock the emulator's quotas count on, so its throttles do not depend on how
  // fast this machine is, and its waits take no real time.
  const pace =
    options.fastPacer === false
      ? createPacer({
          now: () => clock.now().getTime(),
          sleep: (ms) => clock.advance(ms),
          random: seededRandom(7),
        })
      : createPacer({ ratePerSecond: 100_000, burst: 1000 });
  // Under throttling the pacer is the one that waits and retries (on the session's clock); the
  // SDK's own retries would wait in real time and, the clock standing still, be throttled again.
  const sweepClient =
    options.fastPacer === false
      ? new SecretsManagerClient({ ...session.clientConfig, maxAttempts: 1 })
      : suite.secretsManager;
  return {
    catalog: new SecretsManagerCatalog(sweepClient),
    store: options.fastPacer === false ? new SecretsManagerStore(sweepClient) : suite.store,
    audit: suite.audit,
    alerter: suite.alerter,
    issuerFor: suite.rotationDeps.issuerFor,
    clock: clock.now,
    pace,
    ...stores,
  };
}

async function start(options: StartOptions = {}) {
  const intervalMs = options.intervalMs ?? INTERVAL_MS;
  const aws: SessionAwsOptions = { clock: START, secretsManager: {} };
  if (options.throttle) aws.secretsManager!.throttle = options.throttle;
  if (options.consistentListing) aws.secretsManager!.listConsistency = CONSISTENT_LISTING;
  // The stack's rules run at the endpoint: tag changes reach the tag-event function (served
  // here); the sweep is invoked by this test, not by the schedule.
  const session = await openSession(aws, { triggers: { rules: true } });
  const { suite } = session;
  const managed = new DynamoManagedSet(suite.dynamo, suite.tableName, 50);
  const cursor = new DynamoSweepCursorStore(suite.dynamo, suite.tableName);
  const sweepDeps = sweepDepsFor(session, options, { cursor, managed });
  const failures: string[] = [];
  const serve = (name: string, handler: FunctionHandler) =>
    session.serveFunction(name, async (event, context) => {
      try {
        return await handler(event, context);
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
        throw error;
      }
    });
  const revoke = await watchRevokeFunction(session);
  if (options.revokes) {
    // As deployed: the sweep reaches the revoke function through the Lambda API.
    sweepDeps.revokes = new LambdaRevokeRequester(suite.lambda, suite.functions.revoke);
  }
  const metrics = metricsRecorder();
  let ticks = 0;
  const sweepHandler = createSweepHandler({
    sweep: sweepDeps,
    rotationFunctionArn: suite.rotationFunctionArn,
    sweepIntervalMs: intervalMs,
    metrics: metrics.sink,
    // Each deadline check is one tick of the invocation's own time: deterministic cut-offs.
    elapsed: () => ticks++,
    safetyMarginMs: 0,
  });
  // The sweep function's handler, run here as the schedule would invoke it (its requests go to the
  // endpoint): through the Lambda API it would cost a thousand round trips in the simulation.
  const sweep = async (o: { budget?: number; settle?: boolean } = {}) => {
    const context = { getRemainingTimeInMillis: () => o.budget ?? 1e12 } as unknown as Context;
    const summary = await sweepHandler({ scheduledAt: session.clock.now().toISOString() }, context);
    if (o.settle !== false) for (let i = 0; i < 3; i++) await session.idle();
    return summary;
  };
  const onTagEvent = createTagEventsHandler({
    sweep: sweepDeps,
    rotationFunctionArn: suite.rotationFunctionArn,
    sweepIntervalMs: intervalMs,
    ownRoles: [],
  });
  const tagEventOutcomes: unknown[] = [];
  const tagEvents: LocalEvent[] = [];
  let lost = false;
  await serve(suite.functions.tagEvents, async (event) => {
    if (lost) return { status: 'lost' };
    tagEvents.push(structuredClone(event));
    const outcome = await onTagEvent(event);
    tagEventOutcomes.push(outcome);
    return outcome;
  });
  // The revoke rule's deliveries are lost: this world delivers tag events to the tag-event
  // function only, as an account without a CloudTrail trail would deliver none.
  await serve(suite.functions.revokeEvents, async () => ({ status: 'lost' }));
  const started: World = {
    session,
    suite,
    managed,
    cursor,
    sweepDeps,
    sweep,
    metrics,
    tagEventOutcomes,
    tagEvents,
    failures,
    revoke,
    loseTagEvents: () => {
      lost = true;
      return () => {
        lost = false;
      };
    },
  };
  world = started;
  return started;
}

const sm = (w: World) => w.suite.secretsManager;

/**
 * Waits until nothing is in flight: a tag event's handler can start a rotation (RotateSecret's
 * test run) after the bus went idle, so wait until a round starts nothing new.
 */
async function settle(w: World) {
  for (let i = 0; i < 3; i++) await w.session.idle();
}

async function createSecret(w: World, name: string, tags: Record<string, string> = {}) {
  const out = await sm(w).send(
    new CreateSecretCommand({
      Name: name,
      SecretString: `acme_live_${name.replace(/\W/g, '')}InitialTokenValue000000000000`,
      ...(Object.keys(tags).length > 0
        ? { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }
        : {}),
    }),
  );
  await settle(w);
  return out.ARN!;
}

const tag = async (w: World, id: string, tags: Record<string, string>) => {
  await sm(w).send(
    new TagResourceCommand({
      SecretId: id,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  await settle(w);
};
const untag = async (w: World, id: string, keys: string[]) => {
  await sm(w).send(new UntagResourceCommand({ SecretId: id, TagKeys: keys }));
  await settle(w);
};
const describeSecret = (w: World, id: string): Promise<DescribeSecretCommandOutput> =>
  sm(w).send(new DescribeSecretCommand({ SecretId: id }));

async function members(w: World): Promise<ManagedSecret[]> {
  const all: ManagedSecret[] = [];
  let after: string | undefined;
  do {
    const page = await w.managed.page(after);
    all.push(...page.members);
    after = page.last;
  } while (after !== undefined);
  return all;
}

async function events(w: World, arn: string, event?: string): Promise<AuditRecord[]> {
  const history = await w.suite.audit.history(arn);
  return event ? history.filter((r) => r.event === event) : history;
}

/** Alerts published about one secret (by name, the `secret` message attribute) for one event. */
const alertsFor = async (w: World, name: string, event: string) =>
  (await w.session.published(w.suite.topicArn)).filter(
    (m) => m.attributes.secret?.StringValue === name && m.attributes.event?.StringValue === event,
  );

/** Advances the session's clock by `ms` in steps of `interval`, running `each` after every step. */
async function every(w: World, interval: number, ms: number, each: () => Promise<void>) {
  for (let t = interval; t <= ms; t += interval) {
    await w.session.clock.advance(interval);
    await each();
  }
}

/**
 * The live and previous versions' creation dates, straight from ListSecretVersionIds. Embedded,
 * asked of the local AWS in-process (the operation as a request runs it, without the SDK and HTTP
 * round trip): the four-week simulation asks for every secret before each of its 672 sweeps, and
 * those round trips were a third of its requests. On an external endpoint, through the SDK. What
 * the code under test calls goes over HTTP either way.
 */
async function versionAges(w: World, arn: string) {
  type Listed = { Versions?: { VersionStages?: string[]; CreatedDate?: Date }[] };
  const local = w.session.local;
  const { Versions = [] }: Listed = local
    ? ((await local.secretsManager.call('ListSecretVersionIds', { SecretId: arn })) as Listed)
    : await sm(w).send(new ListSecretVersionIdsCommand({ SecretId: arn }));
  const created = (stage: string) =>
    Versions.find((v) => v.VersionStages?.includes(stage))?.CreatedDate?.getTime();
  return { current: created('AWSCURRENT'), previous: created('AWSPREVIOUS') };
}

describe('lifespan enforcement over four simulated weeks', () => {
  it('keeps every live token within its lifespan plus one sweep interval, and every previous token within its grace plus one interval', async () => {
    const seed = Number(process.env.LIFESPAN_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    // The promise holds for any sweep interval the stack is given; the simulation runs an hourly
    // sweep (a stack's sweepInterval of 60 minutes), a quarter of the sweeps the 15-minute default
    // would take over four weeks, so it stays a test of the rules rather than of the machine.
    const w = await start({ intervalMs: SIM_INTERVAL_MS });
    const lifespans = ['4h', '5h', '9h', '1d', '2d', '3d', '7d', '30d'];
    const secrets: {
      arn: string;
      name: string;
      lifespanMs: number;
      graceMs: number;
      grace: string;
    }[] = [];
    for (const lifespan of lifespans) {
      const lifespanMs =
        Number(lifespan.slice(0, -1)) * (lifespan.endsWith('d') ? DAY_MS : HOUR_MS);
      const graceMinutes = Math.floor(random() * (lifespanMs / MINUTE_MS / 2 + 1));
      const grace = `${graceMinutes}m`;
      const name = `sim/${lifespan}`;
      const arn = await createSecret(w, name);
      // Opted in by a tag change, as a person would: the tag event attaches rotation.
      await tag(w, arn, { [TAG.lifespan]: lifespan, [TAG.grace]: grace });
      secrets.push({ arn, name, lifespanMs, graceMs: graceMinutes * MINUTE_MS, grace });
    }
    const context = `seed ${seed} (LIFESPAN_SEED=${seed} to replay); graces ${secrets.map((s) => `${s.name}=${s.grace}`).join(', ')}`;

    // Prepare: every secret is attached by its tag event alone, before any sweep.
    for (const s of secrets) {
      const d = await describeSecret(w, s.arn);
      expect(d.RotationEnabled, `${s.name} attached by its tag event; ${context}`).toBe(true);
      expect(d.RotationLambdaARN).toBe(w.suite.rotationFunctionArn);
    }

    const violations: string[] = [];
    const summaries: SweepSummary[] = [];
    let sweeps = 0;
    const check = async (when: string) => {
      const now = w.session.clock.now().getTime();
      for (const s of secrets) {
        const { current, previous } = await versionAges(w, s.arn);
        if (current === undefined) {
          violations.push(`${when}: ${s.name} has no AWSCURRENT`);
          continue;
        }
        const age = now - current;
        if (age > s.lifespanMs + SIM_INTERVAL_MS)
          violations.push(`${when}: ${s.name} live token is ${(age / HOUR_MS).toFixed(2)}h old`);
        // The previous token stopped being live when the current one was created (a rotation
        // takes no local time here), so that is where its grace starts.
        if (previous !== undefined && age > s.graceMs + SIM_INTERVAL_MS)
          violations.push(
            `${when}: ${s.name} previous token outlived grace ${s.grace} by ${((age - s.graceMs) / MINUTE_MS).toFixed(0)}m`,
          );
      }
    };
    const sweepAndCheck = async () => {
      sweeps++;
      await check(`before sweep ${sweeps} at ${w.session.clock.now().toISOString()}`);
      summaries.push(await w.sweep());
    };

    // Act: four weeks, a sweep an hour.
    await every(w, SIM_INTERVAL_MS, 28 * DAY_MS, sweepAndCheck);

    // Assess (ages only grow between sweeps, so just before each sweep is the worst moment)
    await check('at the end');
    expect(violations.slice(0, 10), context).toEqual([]);
    expect(sweeps).toBe((28 * DAY_MS) / SIM_INTERVAL_MS);
    expect(
      summaries.every((s) => s.complete && s.failureCount === 0),
      context,
    ).toBe(true);
    const rotations = (await w.session.rotations()).filter((r) => r.trigger !== 'test');
    expect(
      rotations.filter((r) => r.outcome !== 'succeeded'),
      context,
    ).toEqual([]);
    // The 4h secret rotated about every 4h; the 30d one at least once.
    const rotationsOf = (name: string) =>
      rotations.filter((r) => r.secretArn === secrets.find((s) => s.name === name)!.arn).length;
    expect(rotationsOf('sim/4h')).toBeGreaterThanOrEqual((28 * 24) / 4 - 1);
    // rate(6 days) + a 23h window: at least three rotations in four weeks. (The 30d secret's
    // first rotation is due after 29 days, outside the simulation.)
    expect(rotationsOf('sim/7d')).toBeGreaterThanOrEqual(3);
    // Every revoked previous token is audited.
    const revoked = (
      await Promise.all(secrets.map((s) => events(w, s.arn, 'previous.revoked')))
    ).flat();
    expect(revoked.length).toBeGreaterThan(100);
    // The sweep emitted SweepCompleted = 1 at every run.
    const completed = w.metrics.published.flat().filter((m) => m.name === 'SweepCompleted');
    expect(completed).toHaveLength(sweeps);
    expect(completed.every((m) => m.value === 1)).toBe(true);
  }, 600_000);
});

describe('tag changes', () => {
  it('attaches rotation on the tag event, updates the schedule when the tag changes, and detaches when it is removed', async () => {
    const w = await start();
    const arn = await createSecret(w, 'app/key');

    await tag(w, arn, { [TAG.lifespan]: '7d' });
    const week = scheduleFor(7 * DAY_MS);
    const attached = await describeSecret(w, arn);
    expect(attached.RotationEnabled).toBe(true);
    expect(attached.RotationLambdaARN).toBe(w.suite.rotationFunctionArn);
    expect(attached.RotationRules?.ScheduleExpression).toBe(week.scheduleExpression);
    expect(attached.RotationRules?.Duration).toBe(week.duration);
    expect((await members(w)).map((m) => m.arn)).toEqual([arn]);

    await tag(w, arn, { [TAG.lifespan]: '12h' });
    const twelve = scheduleFor(12 * HOUR_MS);
    const updated = await describeSecret(w, arn);
    expect(updated.RotationRules?.ScheduleExpression).toBe(twelve.scheduleExpression);
    expect(updated.RotationRules?.Duration).toBe(twelve.duration);

    await untag(w, arn, [TAG.lifespan]);
    expect((await describeSecret(w, arn)).RotationEnabled).toBe(false);
    expect(await members(w)).toEqual([]);

    const trail = await events(w, arn);
    const kinds = trail.map((r) => r.event);
    expect(kinds).toEqual(
      expect.arrayContaining(['rotation.attached', 'rotation.updated', 'rotation.detached']),
    );
    const detached = trail.find((r) => r.event === 'rotation.detached')!;
    expect(detached.trigger.source).toBe('tag');
    expect(detached.trigger.principal).toContain(':user/local');
    expect(w.failures).toEqual([]);
    expect(w.session.local?.events.failures ?? []).toEqual([]);
  });

  it('attaches a secret created with the lifespan tag', async () => {
    const w = await start();
    const arn = await createSecret(w, 'born/tagged', { [TAG.lifespan]: '1d' });
    expect((await describeSecret(w, arn)).RotationLambdaARN).toBe(w.suite.rotationFunctionArn);
  });

  it('ignores tag changes that touch no policy tag, the revoke tag included', async () => {
    const w = await start();
    const arn = await createSecret(w, 'app/other-tags');
    await tag(w, arn, { team: 'payments', [TAG.revoke]: 'test' });
    expect(w.tagEventOutcomes).toEqual([
      { status: 'ignored', why: 'a new secret without tags' },
      { status: 'ignored', why: 'about the revoke tag, which the revoke handler owns' },
    ]);
    expect((await describeSecret(w, arn)).RotationEnabled).toBeUndefined();
  });

  it('detaches at the next sweep when the untag event is lost, and forgets deleted secrets', async () => {
    const w = await start();
    const kept = await createSecret(w, 'app/kept', {});
    const lost = await createSecret(w, 'app/lost-event', {});
    const gone = await createSecret(w, 'app/deleted', {});
    for (const arn of [kept, lost, gone]) await tag(w, arn, { [TAG.lifespan]: '2d' });
    expect(await members(w)).toHaveLength(3);

    const resume = w.loseTagEvents();
    await untag(w, lost, [TAG.lifespan]);
    await sm(w).send(new DeleteSecretCommand({ SecretId: gone, ForceDeleteWithoutRecovery: true }));
    resume();
    expect((await describeSecret(w, lost)).RotationEnabled).toBe(true);

    const summary = await w.sweep();

    expect((await describeSecret(w, lost)).RotationEnabled).toBe(false);
    expect((await describeSecret(w, kept)).RotationEnabled).toBe(true);
    expect((await members(w)).map((m) => m.arn)).toEqual([kept]);
    expect(summary.managed).toEqual({ pages: 1, members: 3, described: 2, forgotten: 2 });
    expect(summary.failureCount).toBe(0);
    const detached = await events(w, lost, 'rotation.detached');
    expect(detached.map((r) => r.trigger.source)).toEqual(['schedule']);
  });
});

describe('revoke tags whose event never came', () => {
  // This world delivers tag events to the tag-event function only: a revoke tag's event is lost,
  // as in an account without a CloudTrail trail.
  const REASON = 'key pasted in #general';
  const liveToken = async (w: World, arn: string) =>
    (await w.suite.store.getValue(arn, { stage: 'AWSCURRENT' }))!;
  const revokeEvents = (trail: AuditRecord[]) =>
    trail.filter((r) => r.event.startsWith('revoke.')).map((r) => `${r.event}:${r.outcome}`);

  it('revokes at the next sweep: a fresh token, the tag removed, last-revoked set, and the pickup audited', async () => {
    // Prepare
    const w = await start({ revokes: true });
    const arn = await createSecret(w, 'app/leaked', { [TAG.lifespan]: '7d' });
    const leaked = await liveToken(w, arn);
    await tag(w, arn, { [TAG.revoke]: REASON });
    expect((await describeSecret(w, arn)).Tags).toContainEqual({ Key: TAG.revoke, Value: REASON });

    // Act
    const summary = await w.sweep();
    await w.revoke.settled();

    // Assess
    expect(summary.failureCount).toBe(0);
    expect(summary.actions['revoke-requested']).toBe(1);
    expect(w.revoke.outcomes).toMatchObject([{ status: 'completed', mode: 'reissue' }]);
    const fresh = await liveToken(w, arn);
    expect(fresh).not.toBe(leaked);
    expect(fresh.startsWith('acme_live_')).toBe(true);
    const after = await describeSecret(w, arn);
    const tags = Object.fromEntries((after.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags[TAG.revoke]).toBeUndefined();
    expect(tags[TAG.lastRevoked]).toBe(w.session.clock.now().toISOString());
    expect(Object.keys(after.VersionIdsToStages ?? {})).toHaveLength(1);
    const trail = await events(w, arn);
    expect(revokeEvents(trail)).toEqual([
      'revoke.handed-over:succeeded',
      'revoke.requested:started',
      'revoke.completed:succeeded',
    ]);
    const [handedOver, , completed] = trail.filter((r) => r.event.startsWith('revoke.'));
    expect(handedOver!.trigger).toEqual({ source: 'schedule' });
    expect(handedOver!.detail).toMatchObject({ reason: REASON, mode: 'reissue' });
    expect(completed!.trigger).toEqual({ source: 'tag' });
    expect(completed!.detail).toMatchObject({ pickedUpBy: 'sweep', reason: REASON });
    const alerts = await alertsFor(w, 'app/leaked', 'revoke.completed');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(`Reason given: ${REASON}`);

    // Act: the next sweep finds no tag, and hands nothing over.
    await w.session.clock.advance(INTERVAL_MS);
    await w.sweep();
    await w.revoke.settled();

    // Assess
    expect(w.revoke.outcomes).toHaveLength(1);
    expect(revokeEvents(await events(w, arn))).toHaveLength(3);
    expect(await liveToken(w, arn)).toBe(fresh);
  });

  it('ends as ignored, with no second revoke, when the tag event handled the tag first', async () => {
    // Prepare: the sweep lists the tag and queues its hand-over; the tag event, late, arrives
    // before the queued invoke runs.
    const w = await start({ revokes: true });
    const arn = await createSecret(w, 'app/raced', { [TAG.lifespan]: '7d' });
    const leaked = await liveToken(w, arn);
    const before = w.tagEvents.length;
    await tag(w, arn, { [TAG.revoke]: REASON });
    const tagEvent = w.tagEvents.slice(before).find((e) => e.detail.eventName === 'TagResource')!;
    const release = w.revoke.hold();
    // Not waiting for the endpoint to be idle: the held invoke is in flight there.
    await w.sweep({ settle: false });

    // Act
    const onEvent = createRevokeEventsHandler(w.suite.revokeDeps);
    const handled = await onEvent(structuredClone(tagEvent));
    const afterEvent = await liveToken(w, arn);
    release();
    await w.revoke.settled();

    // Assess
    expect(handled).toMatchObject({ status: 'handled', outcomes: [{ status: 'completed' }] });
    expect(w.revoke.outcomes).toMatchObject([{ status: 'ignored' }]);
    expect(afterEvent).not.toBe(leaked);
    expect(await liveToken(w, arn)).toBe(afterEvent);
    const trail = await events(w, arn);
    expect(revokeEvents(trail)).toEqual([
      'revoke.handed-over:succeeded',
      'revoke.requested:started',
      'revoke.completed:succeeded',
      'revoke.ignored:skipped',
    ]);
    const ignored = trail.find((r) => r.event === 'revoke.ignored')!;
    expect(ignored.trigger).toEqual({ source: 'tag' });
    expect(ignored.detail).toMatchObject({ pickedUpBy: 'sweep' });
    const completed = trail.find((r) => r.event === 'revoke.completed')!;
    expect(completed.trigger.principal).toContain(':user/local');
    expect(await alertsFor(w, 'app/raced', 'revoke.completed')).toHaveLength(1);
  });
});

describe('invalid tags', () => {
  it('audits and alerts once per distinct bad value across many sweeps, and changes nothing on the secret', async () => {
    const w = await start();
    const arn = await createSecret(w, 'app/bad-policy');
    const before = await describeSecret(w, arn);

    await tag(w, arn, { [TAG.lifespan]: 'banana' });
    for (let i = 0; i < 5; i++) await w.sweep();
    await tag(w, arn, { [TAG.lifespan]: '7d', [TAG.grace]: '5d' });
    for (let i = 0; i < 5; i++) await w.sweep();

    const after = await describeSecret(w, arn);
    expect(after.RotationEnabled).toBeUndefined();
    expect(after.VersionIdsToStages).toEqual(before.VersionIdsToStages);
    const invalid = await events(w, arn, 'policy.invalid');
    expect(invalid).toHaveLength(2);
    expect(String(invalid[0]!.detail?.problems)).toContain('"banana"');
    expect(String(invalid[1]!.detail?.problems)).toContain('half the lifespan');
    expect(await alertsFor(w, 'app/bad-policy', 'policy.invalid')).toHaveLength(2);
  });
});

describe("another function's rotation", () => {
  it('is left in place while the lifespan is enforced through RotateSecret and alerted', async () => {
    const w = await start();
    const other = referenceRotation(sm(w));
    const otherArn = await w.session.deployFunction('database-rotation', other.handler, {
      invokedBy: 'secretsmanager.amazonaws.com',
    });
    const arn = await createSecret(w, 'db/password');
    await sm(w).send(
      new RotateSecretCommand({
        SecretId: arn,
        RotationLambdaARN: otherArn,
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
        RotateImmediately: false,
      }),
    );
    await w.session.idle();
    await tag(w, arn, { [TAG.lifespan]: '1d' });

    await every(w, INTERVAL_MS, 3 * DAY_MS, async () => void (await w.sweep()));

    const d = await describeSecret(w, arn);
    expect(d.RotationLambdaARN).toBe(otherArn);
    expect(d.RotationRules?.ScheduleExpression).toBe('rate(30 days)');
    const { current } = await versionAges(w, arn);
    expect(w.session.clock.now().getTime() - current!).toBeLessThanOrEqual(DAY_MS + INTERVAL_MS);
    expect(other.events.filter((e) => e.Step === 'finishSecret').length).toBeGreaterThanOrEqual(2);
    expect((await events(w, arn, 'lifespan.overdue')).length).toBeGreaterThanOrEqual(2);
    expect(await events(w, arn, 'rotation.attached')).toEqual([]);
    expect((await alertsFor(w, 'db/password', 'lifespan.overdue')).length).toBeGreaterThanOrEqual(
      2,
    );
  });
});

describe('a sweep under pressure', () => {
  it('finishes correctly when Secrets Manager throttles it', async () => {
    const w = await start({ throttle: { RotateSecret: 8, ListSecrets: 2 }, fastPacer: false });
    const restore = w.loseTagEvents();
    const arns: string[] = [];
    for (let i = 0; i < 40; i++)
      arns.push(await createSecret(w, `bulk/t${i}`, { [TAG.lifespan]: '3d' }));
    restore();
    // ListSecrets may leave out secrets changed in the last five minutes (eventually consistent):
    // one sweep covers everyone only once they have settled.
    await w.session.clock.advance(5 * MINUTE_MS + 1);

    const summary = await w.sweep();

    expect(summary.complete).toBe(true);
    expect(summary.failureCount).toBe(0);
    expect(summary.actions.attach).toBe(40);
    const throttled = (await w.session.secretsManagerCalls()).filter((r) => r.throttled);
    expect(throttled.length).toBeGreaterThan(0);
    for (const arn of arns)
      expect((await describeSecret(w, arn)).RotationLambdaARN).toBe(w.suite.rotationFunctionArn);
  }, 120_000);

  it('resumes after its deadline cut it off, across the listing and the managed set, and covers everyone', async () => {
    // The deadline and resume mechanism over a listing that holds still; the sweep over an
    // eventually consistent one is sweep-consistency.test.ts.
    const w = await start({ consistentListing: true });
    const restore = w.loseTagEvents();
    const arns: string[] = [];
    for (let i = 0; i < 230; i++)
      arns.push(await createSecret(w, `bulk/d${i}`, { [TAG.lifespan]: '7d' }));
    restore();
    await w.session.clock.advance(5 * MINUTE_MS + 1);

    const runs: SweepSummary[] = [];
    do runs.push(await w.sweep({ budget: 90 }));
    while (!runs.at(-1)!.complete && runs.length < 20);

    expect(runs.at(-1)!.complete).toBe(true);
    expect(runs.length).toBeGreaterThan(3);
    expect(runs.some((r) => r.resumedFrom?.phase === 'managed')).toBe(true);
    expect(runs.reduce((n, r) => n + (r.actions.attach ?? 0), 0)).toBe(230);
    expect(runs.reduce((n, r) => n + (r.actions.detach ?? 0), 0)).toBe(0);
    expect(await w.cursor.get()).toBeUndefined();
    expect((await members(w)).map((m) => m.arn).sort()).toEqual([...arns].sort());
    for (const arn of arns) expect((await describeSecret(w, arn)).RotationEnabled).toBe(true);
    // SweepCompleted is 0 for each cut-off invocation and 1 for the one that finished the pass.
    const completed = w.metrics.published.flat().filter((m) => m.name === 'SweepCompleted');
    expect(completed.map((m) => m.value)).toEqual([...runs.slice(0, -1).map(() => 0), 1]);
  }, 120_000);
});
