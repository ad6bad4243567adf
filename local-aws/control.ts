// The served local AWS's session API: what an integration file needs from the emulator beyond the
// AWS APIs, asked over HTTP on the same endpoint, so the file can run against a separately started
// local AWS (`npm run serve`, `npm run test:external`) instead of one in its own process. No AWS
// endpoint has these routes (unsigned requests under /_local/); on one that lacks them, the suite
// skips what needs them and names the route (test/integration/support/session.ts).
//
//   GET    /_local/capabilities                 what this endpoint's control API offers
//   POST   /_local/session                      {"aws": {...}, "suite": {...}}: a fresh local AWS
//                                               behind this endpoint (its own clock, secrets,
//                                               table, topic), with token-rotation installed in it
//                                               when "suite" is given; replaces an open session
//   DELETE /_local/session                      closes it; the endpoint serves its own state again
//   POST   /_local/idle                         waits for rotations in flight and event deliveries
//   GET    /_local/sns/messages?topic=<arn>     what SNS published to the topic, oldest first
//   GET    /_local/secretsmanager/calls         every Secrets Manager request (operation, secret,
//   DELETE /_local/secretsmanager/calls          throttled), and clearing that record
//   GET    /_local/secretsmanager/list-omissions  the secrets ListSecrets' modelled eventual
//                                               consistency left out of a page, and when, with
//                                               its window (lagMs; 0 while it is consistent)
//   PUT    /_local/cloudformation/outputs       {"stackName", "outputs"}: sets a stack's outputs
//   PUT    /_local/lambda/functions/<name>/callback  {"url": "http://127.0.0.1:<port>/..."}: the
//                                               function's invocations (Invoke, Secrets Manager's
//                                               rotation steps) go to that loopback URL instead of
//                                               its code; its role and resource policy still
//                                               apply (lambda-callback.ts has the wire)
//   GET    /_local/secretsmanager/rotations?secret=<arn>  the rotations Secrets Manager ran (each
//                                               attempt's step and error, and the outcome); on
//                                               AWS only the function's logs tell
//   PUT    /_local/iam/consistency              {"delayMs": n}: how long (local clock) STS refuses
//                                               a new or changed access key (IAM user guide,
//                                               troubleshoot_general.html#troubleshoot_general_eventual-consistency)
// The clock routes (GET /_local/clock, POST /_local/clock/advance) act on the open session's clock.
// One session at a time: the integration runner runs one file, and each file one test, at a time.
import { createPacer } from '#domain/pacer';
import { cloudFormationOf } from './cloudformation.ts';
import {
  ControlRequestError,
  FUNCTION_CAPABILITIES,
  functionControl,
} from './control-functions.ts';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from './index.ts';
import {
  type PendingEndState,
  SECRETS_MANAGER_OPERATIONS,
  type SecretsManagerOperation,
  type WindowPoint,
} from './secrets-manager-model.ts';
import { type InstalledSuite, type InstallOptions, installSuite } from './suite.ts';

/** A session's local AWS, as JSON can ask for it (LocalAwsOptions without a shared clock or port). */
export interface SessionAwsOptions {
  /** Where the session's clock starts: an ISO time. Default the real time now. */
  clock?: string;
  secretsManager?: {
    rotationAttempts?: number;
    rotationWindowPoint?: WindowPoint;
    pendingAfterRotation?: PendingEndState;
    throttle?: Partial<Record<SecretsManagerOperation, number>> | 'documented';
    listConsistency?: { seed: number; lagMs?: number; shortPageChance?: number };
  };
  iamConsistencyDelayMs?: number;
}

/** The suite installed in a session, as JSON can ask for it (InstallOptions; a pacer by its rates). */
export interface SessionSuiteOptions {
  stackName?: string;
  triggers?: boolean | { rules?: boolean; sweep?: boolean };
  sweepIntervalMinutes?: number;
  maxLifespanHours?: number;
  graceExtensions?: number;
  pace?: { ratePerSecond: number; burst?: number };
}

/** What a session's installed suite is, as the test needs to reach it through the endpoint. */
export interface SessionSuite {
  stackName: string;
  tableName: string;
  topicArn: string;
  rotationFunctionArn: string;
  functions: Record<
    'rotation' | 'sweep' | 'tagEvents' | 'secretsManagerEvents' | 'revoke' | 'revokeEvents',
    string
  >;
  sweepIntervalMs: number;
  /** The token index's fingerprint key secret (stack output FingerprintKeySecretArn). */
  fingerprintKeySecretArn: string;
}

export interface SessionOpened {
  endpoint: string;
  region: string;
  accountId: string;
  now: string;
  suite?: SessionSuite;
}

/** The capabilities GET /_local/capabilities lists; a test names the one it lacks when it skips. */
export const CONTROL_CAPABILITIES = [
  'clock',
  'session',
  'suite',
  'idle',
  'sns-messages',
  'secretsmanager-calls',
  'list-omissions',
  'cloudformation-outputs',
  ...FUNCTION_CAPABILITIES,
] as const;

class BadRequest extends Error {}

/** Adds the session API to `host`, the served local AWS. */
export function addSessionControl(host: LocalAws): void {
  let session: LocalAws | undefined;
  const active = () => session ?? host;
  const close = async () => {
    const closing = session;
    session = undefined;
    host.delegate(undefined);
    await closing?.stop();
  };

  host.addControl(async ({ method, path, query, body }) => {
    const route = `${method} ${path}`;
    const json = () => parseJson(body, route);
    try {
      switch (route) {
        case 'GET /_local/capabilities':
          return ok({ capabilities: CONTROL_CAPABILITIES });
        case 'POST /_local/session': {
          const request = json();
          const awsOptions = sessionAwsOptions(request.aws);
          const suiteOptions =
            request.suite === undefined ? undefined : sessionSuiteOptions(request.suite);
          await close();
          const opened = await startLocalAws({
            ...awsOptions,
            region: host.region,
            accountId: host.accountId,
            publicEndpoint: host.endpoint,
          });
          session = opened;
          host.delegate(opened);
          const suite = suiteOptions && (await installSuite(opened, suiteOptions));
          const reply: SessionOpened = {
            endpoint: host.endpoint,
            region: opened.region,
            accountId: opened.accountId,
            now: opened.clock.now().toISOString(),
            ...(suite && { suite: sessionSuiteOf(suite) }),
          };
          return ok(reply);
        }
        case 'DELETE /_local/session':
          await close();
          return ok({ closed: true });
        case 'POST /_local/idle':
          await active().idle();
          return ok({ now: active().clock.now().toISOString() });
        case 'GET /_local/sns/messages': {
          const topic = query.get('topic');
          if (!topic) throw new BadRequest('expected ?topic=<topic ARN>');
          return ok({ messages: active().sns.messagesTo(topic) });
        }
        case 'GET /_local/secretsmanager/calls':
          return ok({ calls: active().secretsManager.calls.records });
        case 'DELETE /_local/secretsmanager/calls':
          active().secretsManager.calls.reset();
          return ok({ cleared: true });
        case 'GET /_local/secretsmanager/list-omissions':
          return ok(listOmissionsOf(active()));
        case 'PUT /_local/cloudformation/outputs': {
          const { stackName, outputs } = json();
          if (typeof stackName !== 'string' || !isStringRecord(outputs)) {
            throw new BadRequest(
              `expected {"stackName": "<name>", "outputs": {"<key>": "<value>", ...}}, found ${clip(body)}`,
            );
          }
          cloudFormationOf(active()).putStack(stackName, outputs);
          return ok({ stackName });
        }
        default:
          return await functionControl(active(), { method, path, query, body });
      }
    } catch (error) {
      if (error instanceof BadRequest || error instanceof ControlRequestError)
        return { status: 400, body: { message: error.message } };
      throw error;
    }
  });
}

const ok = (body: unknown) => ({ status: 200, body });

/** What ListSecrets' modelled consistency left out, and its window (0 while it is consistent). */
const listOmissionsOf = ({ secretsManager }: LocalAws) => ({
  omissions: secretsManager.listOmissions,
  lagMs: secretsManager.listConsistencyLagMs,
});

/** What a test needs to know of the suite installed in its session. */
function sessionSuiteOf(suite: InstalledSuite): SessionSuite {
  return {
    stackName: suite.stackName,
    tableName: suite.tableName,
    topicArn: suite.topicArn,
    rotationFunctionArn: suite.rotationFunctionArn,
    functions: suite.functions,
    sweepIntervalMs: suite.sweepIntervalMs,
    fingerprintKeySecretArn: suite.fingerprintKeySecretArn,
  };
}

const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

function parseJson(body: string, route: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Reported below.
  }
  throw new BadRequest(`${route} expects a JSON object, found ${clip(body)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isStringRecord = (v: unknown): v is Record<string, string> =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string');

function onlyKeys(where: string, value: Record<string, unknown>, allowed: string[]): void {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new BadRequest(
      `${where}: unknown option(s) ${unknown.join(', ')}; expected ${allowed.join(', ')}`,
    );
  }
}

function positiveNumber(where: string, value: unknown, { integer = false } = {}): number {
  if (typeof value !== 'number' || !(value >= 0) || (integer && !Number.isInteger(value))) {
    throw new BadRequest(
      `${where} must be a ${integer ? 'whole ' : ''}number ≥ 0, found ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function oneOf<T extends string>(where: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new BadRequest(
      `${where} must be one of ${allowed.join(', ')}, found ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/** The session's LocalAwsOptions, every field checked. */
export function sessionAwsOptions(raw: unknown): LocalAwsOptions {
  if (raw === undefined) return {};
  if (!isObject(raw)) throw new BadRequest(`"aws" must be an object, found ${JSON.stringify(raw)}`);
  onlyKeys('"aws"', raw, ['clock', 'secretsManager', 'iamConsistencyDelayMs']);
  const options: LocalAwsOptions = {};
  if (raw.clock !== undefined) {
    if (typeof raw.clock !== 'string' || Number.isNaN(Date.parse(raw.clock))) {
      throw new BadRequest(`"aws.clock" must be an ISO time, found ${JSON.stringify(raw.clock)}`);
    }
    options.clock = raw.clock;
  }
  if (raw.iamConsistencyDelayMs !== undefined) {
    options.iamConsistencyDelayMs = positiveNumber(
      '"aws.iamConsistencyDelayMs"',
      raw.iamConsistencyDelayMs,
    );
  }
  const sm = raw.secretsManager;
  if (sm === undefined) return options;
  if (!isObject(sm))
    throw new BadRequest(`"aws.secretsManager" must be an object, found ${JSON.stringify(sm)}`);
  onlyKeys('"aws.secretsManager"', sm, [
    'rotationAttempts',
    'rotationWindowPoint',
    'pendingAfterRotation',
    'throttle',
    'listConsistency',
  ]);
  options.secretsManager = secretsManagerOptions(sm);
  return options;
}

/** "aws.secretsManager" of a session request, every field checked. */
function secretsManagerOptions(
  sm: Record<string, unknown>,
): NonNullable<LocalAwsOptions['secretsManager']> {
  const out: NonNullable<LocalAwsOptions['secretsManager']> = {};
  if (sm.rotationAttempts !== undefined) {
    out.rotationAttempts = positiveNumber(
      '"aws.secretsManager.rotationAttempts"',
      sm.rotationAttempts,
      { integer: true },
    );
  }
  if (sm.rotationWindowPoint !== undefined) {
    out.rotationWindowPoint = oneOf(
      '"aws.secretsManager.rotationWindowPoint"',
      sm.rotationWindowPoint,
      ['start', 'end'] as const,
    );
  }
  if (sm.pendingAfterRotation !== undefined) {
    out.pendingAfterRotation = oneOf(
      '"aws.secretsManager.pendingAfterRotation"',
      sm.pendingAfterRotation,
      ['removed', 'kept'] as const,
    );
  }
  if (sm.throttle !== undefined) {
    if (sm.throttle === 'documented') out.throttle = 'documented';
    else if (isObject(sm.throttle)) {
      const limits: Partial<Record<SecretsManagerOperation, number>> = {};
      for (const [operation, rate] of Object.entries(sm.throttle)) {
        const op = oneOf(
          'an operation in "aws.secretsManager.throttle"',
          operation,
          SECRETS_MANAGER_OPERATIONS,
        );
        limits[op] = positiveNumber(`"aws.secretsManager.throttle.${op}"`, rate);
      }
      out.throttle = limits;
    } else {
      throw new BadRequest(
        `"aws.secretsManager.throttle" must be "documented" or {"<operation>": <requests a second>}, found ${JSON.stringify(sm.throttle)}`,
      );
    }
  }
  if (sm.listConsistency !== undefined) {
    const lc = sm.listConsistency;
    if (!isObject(lc))
      throw new BadRequest(
        `"aws.secretsManager.listConsistency" must be {"seed": <n>}, found ${JSON.stringify(lc)}`,
      );
    onlyKeys('"aws.secretsManager.listConsistency"', lc, ['seed', 'lagMs', 'shortPageChance']);
    out.listConsistency = {
      seed: positiveNumber('"aws.secretsManager.listConsistency.seed"', lc.seed, { integer: true }),
      ...(lc.lagMs !== undefined && {
        lagMs: positiveNumber('"…listConsistency.lagMs"', lc.lagMs),
      }),
      ...(lc.shortPageChance !== undefined && {
        shortPageChance: positiveNumber('"…listConsistency.shortPageChance"', lc.shortPageChance),
      }),
    };
  }
  return out;
}

/** The session's InstallOptions, every field checked. */
export function sessionSuiteOptions(raw: unknown): InstallOptions {
  if (!isObject(raw))
    throw new BadRequest(`"suite" must be an object, found ${JSON.stringify(raw)}`);
  onlyKeys('"suite"', raw, [
    'stackName',
    'triggers',
    'sweepIntervalMinutes',
    'maxLifespanHours',
    'graceExtensions',
    'pace',
  ]);
  const options: InstallOptions = {};
  if (raw.stackName !== undefined) {
    if (typeof raw.stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(raw.stackName)) {
      throw new BadRequest(
        `"suite.stackName" must be a CloudFormation stack name, found ${JSON.stringify(raw.stackName)}`,
      );
    }
    options.stackName = raw.stackName;
  }
  if (raw.triggers !== undefined) {
    const t = raw.triggers;
    if (typeof t === 'boolean') options.triggers = t;
    else if (isObject(t) && Object.values(t).every((v) => typeof v === 'boolean')) {
      onlyKeys('"suite.triggers"', t, ['rules', 'sweep']);
      options.triggers = t as { rules?: boolean; sweep?: boolean };
    } else {
      throw new BadRequest(
        `"suite.triggers" must be true, false or {"rules"?: bool, "sweep"?: bool}, found ${JSON.stringify(t)}`,
      );
    }
  }
  for (const key of ['sweepIntervalMinutes', 'maxLifespanHours', 'graceExtensions'] as const) {
    if (raw[key] !== undefined)
      options[key] = positiveNumber(`"suite.${key}"`, raw[key], { integer: true });
  }
  if (raw.pace !== undefined) {
    const p = raw.pace;
    if (!isObject(p))
      throw new BadRequest(
        `"suite.pace" must be {"ratePerSecond": <n>, "burst"?: <n>}, found ${JSON.stringify(p)}`,
      );
    onlyKeys('"suite.pace"', p, ['ratePerSecond', 'burst']);
    options.pace = createPacer({
      ratePerSecond: positiveNumber('"suite.pace.ratePerSecond"', p.ratePerSecond),
      ...(p.burst !== undefined && {
        burst: positiveNumber('"suite.pace.burst"', p.burst, { integer: true }),
      }),
    });
  }
  return options;
}
