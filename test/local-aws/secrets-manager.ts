// An in-memory Secrets Manager speaking the real wire protocol (AWS JSON 1.1), so the real SDK
// client works against it unchanged. It follows the API reference and the user guide; where
// AWS leaves a behaviour open, the comment says which way we went and why.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalClock } from './clock.ts';
import { cloudTrailEvent, type EventBus } from './events.ts';
import type { FunctionRegistry } from './functions.ts';
import { seededRandom } from './random.ts';
import {
  daysBetweenRotations,
  nextWindow,
  parseRules,
  type RotationRules,
  type Window,
} from './rotation-schedule.ts';
import { type Cursor, SecretTable } from './secret-table.ts';
import { AwsError, type Caller, readBody, sendJson, sendJsonError } from './wire.ts';

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';
const PREVIOUS = 'AWSPREVIOUS';
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
const DAY = 86_400_000;
/** Versions a secret may hold (see roomForVersion). */
const MAX_VERSIONS = 100;

export const SECRETS_MANAGER_OPERATIONS = [
  'CreateSecret',
  'DescribeSecret',
  'GetSecretValue',
  'PutSecretValue',
  'UpdateSecretVersionStage',
  'ListSecrets',
  'ListSecretVersionIds',
  'RotateSecret',
  'CancelRotateSecret',
  'TagResource',
  'UntagResource',
  'DeleteSecret',
  'RestoreSecret',
] as const;
export type SecretsManagerOperation = (typeof SECRETS_MANAGER_OPERATIONS)[number];

/** Where in its rotation window a scheduled rotation runs. `end` is the worst case for a lifespan. */
export type WindowPoint = 'start' | 'end';

/**
 * What happens to AWSPENDING when AWSCURRENT moves onto its version. AWS documents both: the user
 * guide's "How rotation works" (rotate-secrets_how.html) has the label removed once the rotation
 * finishes, while RotateSecret's API reference treats "AWSPENDING present [and] attached to the
 * same version as AWSCURRENT" as a finished rotation, which is where older rotation functions
 * leave it. 'kept' leaves it on the new AWSCURRENT version until the next rotation takes it.
 */
export type PendingEndState = 'removed' | 'kept';

/**
 * ListSecrets' eventual consistency. The API reference (API_ListSecrets.html): "ListSecrets is
 * eventually consistent, however it might not reflect changes from the last five minutes", and
 * "Even if there are more results available, the response might be shorter than MaxResults" /
 * may be empty with NextToken set (pagination: keep calling until NextToken is absent). With
 * this on, each page may be cut short (possibly to nothing, NextToken still set), and a secret
 * created or changed within `lagMs` is left out of a page at random. Seeded, so a run replays.
 */
export interface ListConsistency {
  seed: number;
  /** How recent a change may be left out. Default five minutes, as the API reference says. */
  lagMs?: number;
  /** Chance that a page is cut short. Default 0.3. */
  shortPageChance?: number;
  /** Chance that a recently changed secret is left out of a page. Default 0.5. */
  omitChance?: number;
}

export interface SecretsManagerOptions {
  region: string;
  accountId: string;
  clock: LocalClock;
  functions: FunctionRegistry;
  events: EventBus;
  /** Whole-rotation attempts before RotationFailed (AWS retries "multiple times"). Default 3. */
  rotationAttempts?: number;
  /** Default 'end'. */
  rotationWindowPoint?: WindowPoint;
  /** Where AWSPENDING ends up when a rotation's AWSCURRENT move completes it. Default 'removed'. */
  pendingAfterRotation?: PendingEndState;
  /** ListSecrets' eventual consistency; off (strongly consistent pages) by default. */
  listConsistency?: ListConsistency;
  /**
   * Requests per second per operation above which the emulator answers ThrottlingException, or
   * 'documented' for AWS's published quotas; counted on the local clock (see Throttle).
   */
  throttle?: Partial<Record<SecretsManagerOperation, number>> | 'documented';
  /** The CloudTrail `userIdentity` of a caller, for API-call events. */
  identityOf?: (caller: Caller | undefined) => Record<string, unknown>;
  /** The Lambda service, for rotation functions deployed with CreateFunction (see canInvoke). */
  lambda?: LambdaInvoker;
}

/** Functions deployed through the local Lambda service (lambda.ts): invoked by ARN, errors thrown. */
export interface LambdaInvoker {
  has(nameOrArn: string): boolean;
  /** Whether the function's resource-based policy lets `service` invoke it for `sourceArn`. */
  allows(nameOrArn: string, service: string, sourceArn?: string): boolean;
  invoke(nameOrArn: string, event: unknown): Promise<unknown>;
}

interface Version {
  id: string;
  /** Absent on the AWSPENDING version RotateSecret creates, until the rotation function puts one. */
  value?: { string?: string; binary?: string };
  stages: Set<string>;
  created: Date;
  lastAccessed?: Date;
}

interface RotationRun {
  token: string;
  rotationToken: string;
  /** Set by CancelRotateSecret or a manual new AWSCURRENT; the run stops at the next step. */
  stopped?: 'cancelled' | 'abandoned';
}

interface Secret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  versions: Map<string, Version>;
  created: Date;
  /** Creation order, for stable listing when the local clock stands still. */
  seq: number;
  lastChanged: Date;
  lastAccessed?: Date;
  deletedDate?: Date;
  rotationEnabled?: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRules;
  lastRotated?: Date;
  /** The next scheduled rotation window, while rotation is on. */
  window?: Window;
  run?: RotationRun;
}

/** One rotation as the emulator ran it, for tests to inspect (errors are the function's own). */
export interface RotationRecord {
  secretArn: string;
  token: string;
  trigger: 'RotateSecret' | 'schedule' | 'test';
  startedAt: Date;
  outcome: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'abandoned';
  attempts: { step: string; error?: string }[];
}

export interface CallRecord {
  operation: string;
  /** The secret's ARN where the request named an existing secret, else the ID it gave. */
  secret?: string;
  secretName?: string;
  at: Date;
  throttled: boolean;
  /** PutSecretValue's RotationToken, so tests can see the handler passed it on. */
  rotationToken?: string;
}

/** Every request the emulator received, for API-budget tests. */
export class CallLog {
  readonly records: CallRecord[] = [];

  /** Requests received (throttled ones included), optionally of one operation and/or one secret (name or ARN). */
  count(filter: { operation?: string; secret?: string } = {}): number {
    return this.records.filter(
      (r) =>
        (!filter.operation || r.operation === filter.operation) &&
        (!filter.secret || r.secret === filter.secret || r.secretName === filter.secret),
    ).length;
  }

  byOperation(filter: { secret?: string } = {}): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.records) {
      if (filter.secret && r.secret !== filter.secret && r.secretName !== filter.secret) continue;
      counts[r.operation] = (counts[r.operation] ?? 0) + 1;
    }
    return counts;
  }

  reset(): void {
    this.records.length = 0;
  }
}

/**
 * The per-Region request quotas of "AWS Secrets Manager quotas" (user guide,
 * reference_limits.html): operations in one group share a quota. GetSecretValue 10,000/s and
 * DescribeSecret 40,000/s (raised in 2025); ListSecrets 100/s; PutSecretValue with
 * UpdateSecretVersionStage, RotateSecret with CancelRotateSecret, TagResource with
 * UntagResource, and RestoreSecret at 50/s each. CreateSecret, DeleteSecret and
 * ListSecretVersionIds are not in that table's copy we cite; they get the control-plane 50/s.
 */
export const DOCUMENTED_QUOTAS: readonly {
  operations: SecretsManagerOperation[];
  perSecond: number;
}[] = [
  { operations: ['GetSecretValue'], perSecond: 10_000 },
  { operations: ['DescribeSecret'], perSecond: 40_000 },
  { operations: ['ListSecrets'], perSecond: 100 },
  { operations: ['PutSecretValue', 'UpdateSecretVersionStage'], perSecond: 50 },
  { operations: ['RotateSecret', 'CancelRotateSecret'], perSecond: 50 },
  { operations: ['TagResource', 'UntagResource'], perSecond: 50 },
  { operations: ['RestoreSecret'], perSecond: 50 },
  { operations: ['CreateSecret'], perSecond: 50 },
  { operations: ['DeleteSecret'], perSecond: 50 },
  { operations: ['ListSecretVersionIds'], perSecond: 50 },
];

/**
 * Request quotas as token buckets on the local clock: a bucket holds one second's worth of
 * requests and refills at the quota's rate as the local clock moves. So whether a request is
 * throttled depends only on the calls before it and the local time between them, never on how
 * fast the machine runs: N calls with the clock standing still admit exactly the quota.
 * `'documented'` applies AWS's published quotas (DOCUMENTED_QUOTAS); a record sets per-operation
 * limits (each operation its own bucket). Off by default.
 */
export class Throttle {
  readonly limits: Partial<Record<string, number>> = {};
  /** Operation → the bucket it draws from (shared by a documented group). */
  private readonly bucketOf = new Map<string, string>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    limits: Partial<Record<string, number>> | 'documented' = {},
    private readonly now: () => number = () => 0,
  ) {
    if (limits === 'documented') this.useDocumented();
    else for (const [op, rate] of Object.entries(limits)) this.limits[op] = rate;
  }

  /** Applies AWS's published per-Region quotas, groups sharing a bucket. */
  useDocumented(): void {
    for (const group of DOCUMENTED_QUOTAS) {
      const bucket = group.operations.join('+');
      for (const op of group.operations) {
        this.limits[op] = group.perSecond;
        this.bucketOf.set(op, bucket);
      }
    }
    this.buckets.clear();
  }

  /** Sets (or, with undefined, removes) an operation's limit; the operation gets its own bucket. */
  set(operation: SecretsManagerOperation, perSecond: number | undefined): void {
    if (perSecond === undefined) delete this.limits[operation];
    else this.limits[operation] = perSecond;
    this.bucketOf.delete(operation);
    this.buckets.delete(operation);
  }

  /** Takes a token for a request; false when its bucket is empty (the request is throttled). */
  admit(operation: string, nowMs = this.now()): boolean {
    const limit = this.limits[operation];
    if (limit === undefined) return true;
    const key = this.bucketOf.get(operation) ?? operation;
    const bucket = this.buckets.get(key) ?? { tokens: limit, at: nowMs };
    bucket.tokens = Math.min(
      limit,
      bucket.tokens + (Math.max(0, nowMs - bucket.at) * limit) / 1000,
    );
    bucket.at = Math.max(bucket.at, nowMs);
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

// ---- validation helpers: messages as AWS's request validation words them ----

const validation = (field: string, value: unknown, constraint: string) =>
  new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${value === undefined ? 'null' : String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );

function requireString(input: Record<string, unknown>, key: string, max = 2048, min = 1): string {
  const value = input[key];
  const field = key[0]!.toLowerCase() + key.slice(1);
  if (value === undefined || value === null)
    throw validation(field, undefined, 'Member must not be null');
  if (typeof value !== 'string') throw validation(field, value, 'Member must be a string');
  if (value.length < min || value.length > max) {
    throw validation(field, value, `Member must have length between ${min} and ${max}`);
  }
  return value;
}

function optionalString(
  input: Record<string, unknown>,
  key: string,
  max = 2048,
  min = 1,
): string | undefined {
  return input[key] === undefined || input[key] === null
    ? undefined
    : requireString(input, key, max, min);
}

function maxResults(input: Record<string, unknown>): number {
  const value = input.MaxResults;
  if (value === undefined) return 100;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 100) {
    throw validation('maxResults', value, 'Member must have value between 1 and 100');
  }
  return value as number;
}

const NAME = /^[a-zA-Z0-9/_+=.@-]+$/;
const notFound = () =>
  new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const markedForDeletion = () =>
  new AwsError(
    'InvalidRequestException',
    "You can't perform this operation on the secret because it was marked for deletion.",
  );

// ListSecretVersionIds pages by position: a secret's versions are few.
const encodeOffsetToken = (offset: number) =>
  Buffer.from(JSON.stringify({ offset })).toString('base64');
function decodeOffsetToken(token: unknown): number {
  if (token === undefined) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'));
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {}
  throw new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.');
}

// ListSecrets' token names the secret a page ended after (null: the page was empty and began at the start).
const encodeToken = (after: Cursor | undefined) =>
  Buffer.from(JSON.stringify({ after: after ? [after.created, after.seq] : null })).toString(
    'base64',
  );
function decodeToken(token: unknown): Cursor | undefined {
  if (token === undefined) return undefined;
  try {
    const { after } = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'));
    if (after === null) return undefined;
    const [created, seq] = after;
    if (Number.isInteger(created) && Number.isInteger(seq)) return { created, seq };
  } catch {}
  throw new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.');
}

export class SecretsManagerEmulator {
  /** Whole-rotation attempts before RotationFailed. */
  rotationAttempts: number;
  /** Where in its window a scheduled rotation runs. */
  rotationWindowPoint: WindowPoint;
  /** Where AWSPENDING ends up after a rotation completes (see PendingEndState). */
  pendingAfterRotation: PendingEndState;
  /** Secrets left out of ListSecrets pages by eventual consistency, in order (for tests). */
  readonly listOmissions: { at: Date; secretArn: string }[] = [];
  private consistency: (Required<ListConsistency> & { random: () => number }) | undefined;
  readonly calls = new CallLog();
  readonly throttle: Throttle;
  readonly rotations: RotationRecord[] = [];

  private readonly secrets = new SecretTable<Secret>();
  private readonly inFlight = new Set<Promise<void>>();
  private seq = 0;

  constructor(private readonly options: SecretsManagerOptions) {
    this.rotationAttempts = options.rotationAttempts ?? 3;
    this.rotationWindowPoint = options.rotationWindowPoint ?? 'end';
    this.pendingAfterRotation = options.pendingAfterRotation ?? 'removed';
    this.setListConsistency(options.listConsistency);
    this.throttle = new Throttle(options.throttle, () => options.clock.now().getTime());
    options.clock.addTimer({
      nextDue: () => this.nextScheduled(),
      fire: (at) => this.runScheduled(at),
    });
  }

  /** Turns ListSecrets' eventual consistency on (seeded) or, with undefined, off. */
  setListConsistency(consistency: ListConsistency | undefined): void {
    this.consistency = consistency && {
      lagMs: 5 * 60_000,
      shortPageChance: 0.3,
      omitChance: 0.5,
      ...consistency,
      random: seededRandom(consistency.seed),
    };
  }

  /** Resolves when no rotation is running (RotateSecret returns before its rotation ends, as on AWS). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await this.options.events.idle();
  }

  /** The node:http handler for the router. */
  readonly handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    caller?: Caller,
  ): Promise<void> => {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('secretsmanager.')
        ? target.slice('secretsmanager.'.length)
        : '';
      const body = await readBody(req);
      let input: Record<string, unknown>;
      try {
        input = body ? JSON.parse(body) : {};
      } catch {
        throw new AwsError('SerializationException', 'Request body is not valid JSON.');
      }
      sendJson(res, 200, await this.call(operation, input, caller));
    } catch (error) {
      const aws =
        error instanceof AwsError
          ? error
          : new AwsError('InternalServiceError', describe(error), 500);
      sendJsonError(res, aws);
    }
  };

  /** Runs one operation, exactly as a request would (throttle, call log, events included). */
  async call(
    operation: string,
    input: Record<string, unknown>,
    caller?: Caller,
  ): Promise<Record<string, unknown>> {
    if (!(SECRETS_MANAGER_OPERATIONS as readonly string[]).includes(operation)) {
      throw new AwsError(
        'UnknownOperationException',
        `Secrets Manager has no operation '${operation}'.`,
      );
    }
    const named = typeof input.SecretId === 'string' ? this.find(input.SecretId) : undefined;
    const record: CallRecord = {
      operation,
      secret:
        named?.arn ?? (input.SecretId as string | undefined) ?? (input.Name as string | undefined),
      secretName: named?.name ?? (input.Name as string | undefined),
      at: this.now(),
      throttled: false,
      ...(typeof input.RotationToken === 'string' ? { rotationToken: input.RotationToken } : {}),
    };
    this.calls.records.push(record);
    if (!this.throttle.admit(operation)) {
      record.throttled = true;
      throw new AwsError('ThrottlingException', 'Rate exceeded');
    }
    const output = this.dispatch(operation as SecretsManagerOperation, input);
    if (operation === 'CreateSecret') record.secret = output.ARN as string;
    this.apiCallEvent(operation, input, output, caller);
    return output;
  }

  private dispatch(
    operation: SecretsManagerOperation,
    input: Record<string, unknown>,
  ): Record<string, unknown> {
    switch (operation) {
      case 'CreateSecret':
        return this.createSecret(input);
      case 'DescribeSecret':
        return this.describeSecret(input);
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'UpdateSecretVersionStage':
        return this.updateSecretVersionStage(input);
      case 'ListSecrets':
        return this.listSecrets(input);
      case 'ListSecretVersionIds':
        return this.listSecretVersionIds(input);
      case 'RotateSecret':
        return this.rotateSecret(input);
      case 'CancelRotateSecret':
        return this.cancelRotateSecret(input);
      case 'TagResource':
        return this.tagResource(input);
      case 'UntagResource':
        return this.untagResource(input);
      case 'DeleteSecret':
        return this.deleteSecret(input);
      case 'RestoreSecret':
        return this.restoreSecret(input);
    }
  }

  // ---- lookups ----

  private now(): Date {
    return this.options.clock.now();
  }

  /**
   * A secret by name, full ARN, or partial ARN (the ARN without its random 6-character suffix).
   * Secrets whose recovery window has passed are gone, as AWS deletes them then.
   */
  private find(secretId: string): Secret | undefined {
    this.secrets.purge(this.now());
    return this.secrets.find(secretId);
  }

  private secret(input: Record<string, unknown>, options: { allowDeleted?: boolean } = {}): Secret {
    const secret = this.find(requireString(input, 'SecretId'));
    if (!secret) throw notFound();
    if (secret.deletedDate && !options.allowDeleted) throw markedForDeletion();
    return secret;
  }

  private holder(secret: Secret, stage: string): Version | undefined {
    for (const version of secret.versions.values()) if (version.stages.has(stage)) return version;
    return undefined;
  }

  /** AWSPENDING on a version that is not AWSCURRENT: a rotation in progress (or failed and stuck). */
  private pendingRotation(secret: Secret): Version | undefined {
    const pending = this.holder(secret, PENDING);
    return pending && !pending.stages.has(CURRENT) ? pending : undefined;
  }

  // ---- staging labels ----

  /**
   * Attaches `stage` to `version`, taking it from whichever version holds it. Moving AWSCURRENT
   * also moves AWSPREVIOUS to the version AWSCURRENT left ("Secrets Manager automatically moves
   * the staging label AWSPREVIOUS to the version that AWSCURRENT was removed from").
   */
  private attach(secret: Secret, version: Version, stage: string): void {
    const from = this.holder(secret, stage);
    if (from === version) return;
    from?.stages.delete(stage);
    version.stages.add(stage);
    if (stage === CURRENT && from) {
      this.holder(secret, PREVIOUS)?.stages.delete(PREVIOUS);
      from.stages.add(PREVIOUS);
    }
  }

  /**
   * Makes room for one more version, or refuses it. "Secrets Manager removes unlabeled versions
   * when there are more than 100, but it does not remove versions created less than 24 hours
   * ago. If you update the secret value more than once every 10 minutes, you create more
   * versions than Secrets Manager removes, and you will reach the quota for secret versions."
   * (user guide, reference_limits.html; PutSecretValue's API reference says the same). So the
   * oldest unlabelled versions at least a day old go first; when none can go, the write fails
   * with LimitExceededException ("The request failed because it would exceed one of the Secrets
   * Manager quotas", the exception's description in the API reference).
   */
  private roomForVersion(secret: Secret): void {
    const removable = [...secret.versions.values()]
      .filter((v) => v.stages.size === 0 && this.now().getTime() - v.created.getTime() >= DAY)
      .sort((a, b) => a.created.getTime() - b.created.getTime());
    while (secret.versions.size >= MAX_VERSIONS && removable.length > 0) {
      secret.versions.delete(removable.shift()!.id);
    }
    if (secret.versions.size >= MAX_VERSIONS) {
      throw new AwsError(
        'LimitExceededException',
        `The request failed because it would exceed one of the Secrets Manager quotas: ${secret.name} already has ${MAX_VERSIONS} versions, and none is both unlabelled and older than 24 hours.`,
      );
    }
  }

  private checkToken(token: string | undefined): void {
    if (token !== undefined && (token.length < 32 || token.length > 64)) {
      throw validation('clientRequestToken', token, 'Member must have length between 32 and 64');
    }
  }

  private valueOf(input: Record<string, unknown>): Version['value'] | undefined {
    const string = input.SecretString;
    const binary = input.SecretBinary;
    if (string !== undefined && binary !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        "You can't specify both SecretString and SecretBinary.",
      );
    }
    if (typeof string === 'string') {
      if (string.length > 65_536)
        throw validation(
          'secretString',
          '***',
          'Member must have length less than or equal to 65536',
        );
      return { string };
    }
    if (typeof binary === 'string') return { binary };
    return undefined;
  }

  // ---- operations ----

  private createSecret(input: Record<string, unknown>) {
    const name = requireString(input, 'Name', 512);
    if (!NAME.test(name)) {
      throw validation(
        'name',
        name,
        'Member must satisfy regular expression pattern: ^[a-zA-Z0-9/_+=.@-]+$',
      );
    }
    const description = optionalString(input, 'Description', 2048, 0);
    const token = optionalString(input, 'ClientRequestToken', 64);
    this.checkToken(token);
    const existing = this.find(name);
    if (existing?.deletedDate) {
      throw new AwsError(
        'InvalidRequestException',
        `You can't create this secret because a secret with this name is already scheduled for deletion.`,
      );
    }
    if (existing)
      throw new AwsError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    const tags = this.validTags(input.Tags);
    const value = this.valueOf(input);
    const now = this.now();
    const suffix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6);
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.options.region}:${this.options.accountId}:secret:${name}-${suffix}`,
      name,
      ...(description !== undefined ? { description } : {}),
      ...(typeof input.KmsKeyId === 'string' ? { kmsKeyId: input.KmsKeyId } : {}),
      tags,
      versions: new Map(),
      created: now,
      seq: this.seq++,
      lastChanged: now,
    };
    // "If you include SecretString or SecretBinary, then Secrets Manager creates an initial
    // secret version and automatically attaches the staging label AWSCURRENT to it."
    let versionId: string | undefined;
    if (value) {
      versionId = token ?? randomUUID();
      secret.versions.set(versionId, {
        id: versionId,
        value,
        stages: new Set([CURRENT]),
        created: now,
      });
    }
    this.secrets.add(secret);
    return { ARN: secret.arn, Name: name, ...(versionId ? { VersionId: versionId } : {}) };
  }

  private describeSecret(input: Record<string, unknown>) {
    const secret = this.secret(input, { allowDeleted: true });
    const stages: Record<string, string[]> = {};
    // "Versions that don't have staging labels are considered deprecated" and are not listed.
    for (const v of secret.versions.values()) if (v.stages.size) stages[v.id] = [...v.stages];
    return {
      ...this.rotationFields(secret, 'describe'),
      ...(secret.tags.length ? { Tags: secret.tags.map((t) => ({ ...t })) } : {}),
      VersionIdsToStages: stages,
    };
  }

  /**
   * Fields DescribeSecret and ListSecrets share. RotationEnabled is absent for a secret never
   * configured for rotation ("Secrets Manager returns null"). LastRotatedDate is when a rotation
   * last completed successfully (SecretListEntry: "the most recent date and time that the
   * Secrets Manager rotation process was successfully completed"); DescribeSecret's reference
   * adds that it is null while rotation is off, ListSecrets' does not, and we follow each.
   */
  private rotationFields(secret: Secret, view: 'describe' | 'list') {
    const rules = secret.rotationRules ? this.rulesView(secret.rotationRules) : undefined;
    const showLastRotated = view === 'list' || secret.rotationEnabled;
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description !== undefined ? { Description: secret.description } : {}),
      ...(secret.kmsKeyId ? { KmsKeyId: secret.kmsKeyId } : {}),
      ...(secret.rotationEnabled !== undefined ? { RotationEnabled: secret.rotationEnabled } : {}),
      ...(secret.rotationLambdaArn ? { RotationLambdaARN: secret.rotationLambdaArn } : {}),
      ...(rules ? { RotationRules: rules } : {}),
      ...(secret.lastRotated && showLastRotated ? { LastRotatedDate: secret.lastRotated } : {}),
      LastChangedDate: secret.lastChanged,
      ...(secret.lastAccessed ? { LastAccessedDate: secret.lastAccessed } : {}),
      ...(secret.deletedDate ? { DeletedDate: secret.deletedDate } : {}),
      ...(secret.rotationEnabled && secret.window ? { NextRotationDate: secret.window.end } : {}),
      CreatedDate: secret.created,
    };
  }

  /** "In DescribeSecret and ListSecrets, [AutomaticallyAfterDays] is calculated from the rotation schedule." */
  private rulesView(rules: RotationRules): RotationRules {
    const days = rules.AutomaticallyAfterDays ?? daysBetweenRotations(rules);
    return { ...rules, ...(days !== undefined ? { AutomaticallyAfterDays: days } : {}) };
  }

  private getSecretValue(input: Record<string, unknown>) {
    const secret = this.secret(input);
    const versionId = optionalString(input, 'VersionId', 64, 32);
    const stage = optionalString(input, 'VersionStage', 256);
    let version: Version | undefined;
    if (versionId !== undefined) {
      version = secret.versions.get(versionId);
      // With both, the version must hold that stage.
      if (version && stage !== undefined && !version.stages.has(stage)) version = undefined;
    } else {
      version = this.holder(secret, stage ?? CURRENT);
    }
    if (!version?.value) {
      const what =
        versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${stage ?? CURRENT}`;
      throw new AwsError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${what}`,
      );
    }
    // LastAccessedDate is kept to the day ("the date that the secret was last accessed").
    const today = new Date(Math.floor(this.now().getTime() / DAY) * DAY);
    version.lastAccessed = today;
    secret.lastAccessed = today;
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...(version.value.string !== undefined ? { SecretString: version.value.string } : {}),
      ...(version.value.binary !== undefined ? { SecretBinary: version.value.binary } : {}),
      VersionStages: [...version.stages],
      CreatedDate: version.created,
    };
  }

  private putSecretValue(input: Record<string, unknown>) {
    const secret = this.secret(input);
    const value = this.valueOf(input);
    if (!value) {
      throw new AwsError(
        'InvalidParameterException',
        'You must provide either SecretString or SecretBinary.',
      );
    }
    const token = optionalString(input, 'ClientRequestToken', 64) ?? randomUUID();
    this.checkToken(token);
    const stagesIn = input.VersionStages;
    if (
      stagesIn !== undefined &&
      (!Array.isArray(stagesIn) || stagesIn.length < 1 || stagesIn.length > 20)
    ) {
      throw validation('versionStages', stagesIn, 'Member must have length between 1 and 20');
    }
    const stages = (stagesIn as string[] | undefined) ?? [CURRENT];
    const now = this.now();
    const existing = secret.versions.get(token);
    if (existing?.value) {
      // "If a version with a VersionId with the same value as the ClientRequestToken parameter
      // already exists and you specify the same secret data, the operation succeeds but does
      // nothing. However, if the secret data is different, then the operation fails because you
      // can't modify an existing version; you can only create new ones."
      if (existing.value.string === value.string && existing.value.binary === value.binary) {
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: token,
          VersionStages: [...existing.stages],
        };
      }
      throw new AwsError(
        'ResourceExistsException',
        `You can't modify an existing version, you can only create a new version. Version ${token} of ${secret.name} already has a different value.`,
      );
    }
    // A known token without a value is the AWSPENDING version RotateSecret created: the rotation
    // function fills it in (this is how rotation works). Otherwise it is a new version.
    if (!existing) this.roomForVersion(secret);
    const version: Version = existing ?? { id: token, stages: new Set(), created: now };
    version.value = value;
    secret.versions.set(token, version);
    const movesCurrent = stages.includes(CURRENT) && !version.stages.has(CURRENT);
    for (const stage of stages) this.attach(secret, version, stage);
    secret.lastChanged = now;
    if (movesCurrent) this.abandonRotation(secret, version);
    // RotationRulesType: with AutomaticallyAfterDays, "manually updating the secret value by
    // calling PutSecretValue or UpdateSecret is considered a valid rotation".
    if (
      movesCurrent &&
      secret.rotationEnabled &&
      secret.rotationRules?.AutomaticallyAfterDays !== undefined &&
      !secret.run
    ) {
      secret.lastRotated = now;
      secret.window = nextWindow(secret.rotationRules, now);
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: token,
      VersionStages: [...version.stages],
    };
  }

  /**
   * CloudTrail's RotationAbandoned: "When you manually create a new version of a secret, you send
   * a message signalling the abandonment of the current ongoing rotation in favor of the new
   * secret version. As a result, Secrets Manager removes the AWSPENDING label."
   */
  private abandonRotation(secret: Secret, newCurrent: Version): void {
    const pending = this.pendingRotation(secret);
    if (!pending || pending === newCurrent) return;
    // A rotation's own finishSecret moves AWSCURRENT with UpdateSecretVersionStage, not here.
    pending.stages.delete(PENDING);
    if (secret.run) secret.run.stopped = 'abandoned';
    this.serviceEvent('RotationAbandoned', secret);
  }

  private updateSecretVersionStage(input: Record<string, unknown>) {
    const secret = this.secret(input);
    const stage = requireString(input, 'VersionStage', 256);
    const moveTo = optionalString(input, 'MoveToVersionId', 64, 32);
    const removeFrom = optionalString(input, 'RemoveFromVersionId', 64, 32);
    const holder = this.holder(secret, stage);
    const version = (id: string) => {
      const v = secret.versions.get(id);
      if (!v)
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret version: ${id}`,
        );
      return v;
    };
    if (removeFrom !== undefined && holder?.id !== removeFrom) {
      version(removeFrom);
      throw new AwsError(
        'InvalidParameterException',
        `The staging label ${stage} is not attached to version ${removeFrom}, so you can't remove it from that version.`,
      );
    }
    if (moveTo === undefined) {
      if (removeFrom === undefined) {
        throw new AwsError(
          'InvalidParameterException',
          'You must specify MoveToVersionId, RemoveFromVersionId, or both.',
        );
      }
      // AWSCURRENT can only move: a secret always has a current version.
      if (stage === CURRENT) {
        throw new AwsError(
          'InvalidParameterException',
          `You can't remove the staging label ${CURRENT}; move it to another version instead.`,
        );
      }
      holder?.stages.delete(stage);
    } else {
      const target = version(moveTo);
      if (holder && holder !== target && removeFrom === undefined) {
        // The SDK user's classic trip: a label another version holds moves only when you name that version.
        throw new AwsError(
          'InvalidParameterException',
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      if (stage === CURRENT && holder !== target) {
        // User guide, "How rotation works": when AWSCURRENT moves, AWSPREVIOUS follows to the
        // old version; the new current version drops AWSPENDING (the rotation is complete), or
        // keeps it where the test chose the other documented end state (PendingEndState).
        this.attach(secret, target, CURRENT);
        if (this.pendingAfterRotation === 'removed') target.stages.delete(PENDING);
      } else {
        this.attach(secret, target, stage);
      }
    }
    if (stage === CURRENT && secret.run && moveTo !== secret.run.token && moveTo !== undefined) {
      // Someone moved AWSCURRENT elsewhere mid-rotation: that rotation's work is moot.
      secret.run.stopped = 'abandoned';
    }
    secret.lastChanged = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  private listSecrets(input: Record<string, unknown>) {
    const limit = maxResults(input);
    const cursor = decodeToken(input.NextToken);
    const filters = this.validFilters(input.Filters);
    const matches = (s: Secret) =>
      (input.IncludePlannedDeletion === true || !s.deletedDate) && filters.every((f) => f(s));
    this.secrets.purge(this.now());
    // Sorted by CreatedDate (ListSecrets' SortOrder); creation order breaks ties. The page reads
    // from its cursor on, and one secret further to tell whether another page follows.
    const candidates = this.secrets.after(cursor, input.SortOrder === 'desc');
    let page: Secret[] = [];
    let more = false;
    for (const secret of candidates) {
      if (!matches(secret)) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(secret);
    }
    let last = page.at(-1);
    const consistency = this.consistency;
    if (consistency) {
      const { random } = consistency;
      if (random() < consistency.shortPageChance) {
        const kept = Math.floor(random() * page.length);
        more ||= kept < page.length;
        page = page.slice(0, kept);
      }
      // What eventual consistency leaves out is passed over: the next page goes on after it.
      last = page.at(-1);
      const settled = this.now().getTime() - consistency.lagMs;
      page = page.filter((s) => {
        const recent = Math.max(s.created.getTime(), s.lastChanged.getTime()) > settled;
        if (!recent || random() >= consistency.omitChance) return true;
        this.listOmissions.push({ at: this.now(), secretArn: s.arn });
        return false;
      });
    }
    return {
      SecretList: page.map((secret) => {
        const stages: Record<string, string[]> = {};
        for (const v of secret.versions.values()) if (v.stages.size) stages[v.id] = [...v.stages];
        return {
          ...this.rotationFields(secret, 'list'),
          ...(secret.tags.length ? { Tags: secret.tags.map((t) => ({ ...t })) } : {}),
          SecretVersionsToStages: stages,
        };
      }),
      // A short page continues after its last secret; an empty one where it began.
      ...(more ? { NextToken: encodeToken(last ? SecretTable.cursorOf(last) : cursor) } : {}),
    };
  }

  private *secretsNow(): Iterable<Secret> {
    this.secrets.purge(this.now());
    yield* this.secrets.values();
  }

  /**
   * ListSecrets filters (API reference, Filter): name, tag-key, tag-value, primary-region and
   * owning-service are case-sensitive prefix matches; description is a case-insensitive prefix;
   * `all` matches words anywhere. A value starting with `!` negates. Values within a filter are
   * alternatives; filters all apply. Note tag-key and tag-value match independently: tag-key=a
   * with tag-value=b also matches a secret tagged a=x, c=b.
   */
  private validFilters(filters: unknown): ((s: Secret) => boolean)[] {
    if (filters === undefined) return [];
    if (!Array.isArray(filters) || filters.length > 10) {
      throw validation('filters', filters, 'Member must have length less than or equal to 10');
    }
    return filters.map((filter: { Key?: string; Values?: string[] }) => {
      const key = filter.Key;
      const values = filter.Values ?? [];
      const keys = [
        'description',
        'name',
        'tag-key',
        'tag-value',
        'primary-region',
        'owning-service',
        'all',
      ];
      if (!key || !keys.includes(key)) {
        throw validation(
          'filters.member.key',
          key,
          `Member must satisfy enum value set: [${keys.join(', ')}]`,
        );
      }
      if (values.length < 1 || values.length > 10) {
        throw validation(
          'filters.member.values',
          values,
          'Member must have length between 1 and 10',
        );
      }
      for (const value of values) {
        if (!/^!?[a-zA-Z0-9 :_@/+=.\-!]*$/.test(value) || value.length > 512) {
          throw validation(
            'filters.member.values',
            value,
            'Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$',
          );
        }
      }
      const fields = (s: Secret): string[] => {
        switch (key) {
          case 'name':
            return [s.name];
          case 'description':
            return s.description ? [s.description.toLowerCase()] : [];
          case 'tag-key':
            return s.tags.map((t) => t.Key);
          case 'tag-value':
            return s.tags.map((t) => t.Value);
          case 'all':
            return [
              s.name,
              s.description ?? '',
              ...s.tags.flatMap((t) => [t.Key, t.Value]),
            ].flatMap((text) =>
              text
                .split(
                  /[^a-zA-Z0-9]+|(?<=[a-z])(?=[A-Z])|(?<=[a-zA-Z])(?=[0-9])|(?<=[0-9])(?=[a-zA-Z])/,
                )
                .map((w) => w.toLowerCase()),
            );
          default:
            return []; // no replicated or service-owned secrets here
        }
      };
      return (s: Secret) =>
        values.some((raw) => {
          const negated = raw.startsWith('!');
          let value = negated ? raw.slice(1) : raw;
          if (key === 'description' || key === 'all') value = value.toLowerCase();
          const hit =
            key === 'all'
              ? value
                  .split(/[^a-z0-9]+/)
                  .filter(Boolean)
                  .every((w) => fields(s).includes(w))
              : fields(s).some((f) => f.startsWith(value));
          return negated ? !hit : hit;
        });
    });
  }

  private listSecretVersionIds(input: Record<string, unknown>) {
    const secret = this.secret(input);
    const limit = maxResults(input);
    const offset = decodeOffsetToken(input.NextToken);
    const versions = [...secret.versions.values()].filter(
      (v) => input.IncludeDeprecated === true || v.stages.size > 0,
    );
    const page = versions.slice(offset, offset + limit);
    return {
      ARN: secret.arn,
      Name: secret.name,
      Versions: page.map((v) => ({
        VersionId: v.id,
        VersionStages: [...v.stages],
        CreatedDate: v.created,
        ...(v.lastAccessed ? { LastAccessedDate: v.lastAccessed } : {}),
        KmsKeyIds: ['DEFAULT'],
      })),
      ...(offset + limit < versions.length ? { NextToken: encodeOffsetToken(offset + limit) } : {}),
    };
  }

  private rotateSecret(input: Record<string, unknown>) {
    const secret = this.secret(input);
    const token = optionalString(input, 'ClientRequestToken', 64);
    this.checkToken(token);
    const lambdaArn = optionalString(input, 'RotationLambdaARN', 2048) ?? secret.rotationLambdaArn;
    const rules = (input.RotationRules as RotationRules | undefined) ?? secret.rotationRules;
    if (input.RotationRules !== undefined) parseRules(input.RotationRules as RotationRules);
    if (!lambdaArn) {
      throw new AwsError(
        'InvalidRequestException',
        `No Lambda rotation function ARN is associated with the secret ${secret.name}.`,
      );
    }
    // "If the AWSPENDING staging label is present but not attached to the same version as
    // AWSCURRENT, then any later invocation of RotateSecret assumes that a previous rotation
    // request is still in progress and returns an error."
    if (this.pendingRotation(secret)) {
      throw new AwsError(
        'InvalidRequestException',
        "A previous rotation isn't complete. That rotation will be reattempted.",
      );
    }
    // "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function
    // policy grants access to the principal secretsmanager.amazonaws.com" is RotateSecret's
    // AccessDeniedException for a function that does not exist or whose resource-based policy
    // does not let Secrets Manager invoke it (user guide, troubleshoot_rotation.html; the
    // rotation function needs "a resource-based policy ... secretsmanager.amazonaws.com",
    // rotating-secrets-required-permissions-function.html).
    if (!this.canInvoke(lambdaArn, secret.arn)) {
      throw new AwsError(
        'AccessDeniedException',
        'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
      );
    }
    if (token !== undefined && secret.versions.has(token)) {
      throw new AwsError(
        'InvalidRequestException',
        `A version with ClientRequestToken ${token} already exists for the secret ${secret.name}.`,
      );
    }
    // The AWSPENDING version RotateSecret creates counts against the version quota too.
    if (token === undefined || !secret.versions.has(token)) this.roomForVersion(secret);
    const now = this.now();
    secret.rotationEnabled = true;
    secret.rotationLambdaArn = this.options.functions.arnOf(lambdaArn);
    if (rules) secret.rotationRules = rules;
    secret.lastChanged = now;
    const immediately = input.RotateImmediately !== false;
    if (secret.rotationRules) {
      // The schedule counts from the last rotation; until there is one, from now.
      let window = nextWindow(secret.rotationRules, secret.lastRotated ?? now);
      if (window.end <= now) window = nextWindow(secret.rotationRules, now);
      secret.window = window;
    } else {
      delete secret.window; // a one-off rotation with no schedule
    }
    const versionId = token ?? randomUUID();
    if (!immediately) {
      // "If you don't immediately rotate the secret, Secrets Manager tests the rotation
      // configuration by running the testSecret step of the Lambda rotation function. The test
      // creates an AWSPENDING version of the secret and then removes it." Whatever the test
      // says, rotation stays configured for the next window (AWS doesn't document otherwise).
      this.startRun(secret, versionId, 'test');
      return { ARN: secret.arn, Name: secret.name };
    }
    this.startRun(secret, versionId, 'RotateSecret');
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
  }

  private cancelRotateSecret(input: Record<string, unknown>) {
    const secret = this.secret(input);
    // "Turns off automatic rotation, and if a rotation is currently in progress, cancels the
    // rotation." Labels stay as they are: "it can leave the VersionStage labels in an
    // unexpected state. You might need to remove the staging label AWSPENDING." The rotation
    // function and schedule stay on record (DescribeSecret shows "the previous rotation schedule").
    secret.rotationEnabled = false;
    delete secret.window;
    secret.lastChanged = this.now();
    const pending = this.pendingRotation(secret);
    if (secret.run && !secret.run.stopped) {
      secret.run.stopped = 'cancelled';
      this.serviceEvent('RotationAbandoned', secret);
    }
    return { ARN: secret.arn, Name: secret.name, ...(pending ? { VersionId: pending.id } : {}) };
  }

  private validTags(tags: unknown): { Key: string; Value: string }[] {
    if (tags === undefined) return [];
    if (!Array.isArray(tags)) throw validation('tags', tags, 'Member must be a list');
    const result = new Map<string, string>();
    for (const tag of tags as { Key?: unknown; Value?: unknown }[]) {
      const key = tag.Key;
      const value = tag.Value ?? '';
      if (typeof key !== 'string' || key.length < 1 || key.length > 128) {
        throw validation('tags.member.key', key, 'Member must have length between 1 and 128');
      }
      if (typeof value !== 'string' || value.length > 256) {
        throw validation(
          'tags.member.value',
          value,
          'Member must have length less than or equal to 256',
        );
      }
      if (key.toLowerCase().startsWith('aws:')) {
        throw new AwsError(
          'InvalidParameterException',
          `The tag key ${key} uses the reserved prefix aws:.`,
        );
      }
      result.set(key, value);
    }
    return [...result].map(([Key, Value]) => ({ Key, Value }));
  }

  private tagResource(input: Record<string, unknown>) {
    const secret = this.secret(input);
    const tags = this.validTags(input.Tags);
    for (const tag of tags) {
      const existing = secret.tags.find((t) => t.Key === tag.Key);
      if (existing) existing.Value = tag.Value;
      else secret.tags.push(tag);
    }
    // "Maximum number of tags per secret: 50."
    if (secret.tags.length > 50) {
      secret.tags.splice(50 - secret.tags.length);
      throw new AwsError('InvalidParameterException', 'A secret can have at most 50 tags.');
    }
    secret.lastChanged = this.now();
    return {};
  }

  private untagResource(input: Record<string, unknown>) {
    const secret = this.secret(input);
    const keys = input.TagKeys;
    if (!Array.isArray(keys)) throw validation('tagKeys', keys, 'Member must not be null');
    secret.tags = secret.tags.filter((t) => !keys.includes(t.Key));
    secret.lastChanged = this.now();
    return {};
  }

  private deleteSecret(input: Record<string, unknown>) {
    const force = input.ForceDeleteWithoutRecovery === true;
    const id = requireString(input, 'SecretId');
    if (force && input.RecoveryWindowInDays === undefined && !this.find(id)) {
      // AWS answers a forced delete of a secret it does not have with success (deletion being
      // asynchronous, "Secrets Manager performs the actual deletion with an asynchronous
      // background process", DeleteSecret API reference), not ResourceNotFoundException: a
      // teardown must not read that success as proof the secret existed.
      const name = id.startsWith('arn:') ? (id.split(':secret:')[1] ?? id) : id;
      return {
        ARN: id.startsWith('arn:')
          ? id
          : `arn:aws:secretsmanager:${this.options.region}:${this.options.accountId}:secret:${name}`,
        Name: name,
        DeletionDate: this.now(),
      };
    }
    const secret = this.secret(input, { allowDeleted: true });
    const window = input.RecoveryWindowInDays;
    if (force && window !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (secret.deletedDate && !force) throw markedForDeletion();
    const days = (window as number | undefined) ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      throw validation('recoveryWindowInDays', window, 'Member must have value between 7 and 30');
    }
    const now = this.now();
    if (secret.run) secret.run.stopped = 'cancelled';
    if (force) this.secrets.delete(secret);
    else {
      secret.deletedDate = new Date(now.getTime() + days * DAY);
      this.secrets.deletionChanged(secret);
    }
    return { ARN: secret.arn, Name: secret.name, DeletionDate: force ? now : secret.deletedDate };
  }

  private restoreSecret(input: Record<string, unknown>) {
    const secret = this.secret(input, { allowDeleted: true });
    delete secret.deletedDate;
    this.secrets.deletionChanged(secret);
    secret.lastChanged = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  // ---- rotation ----

  private startRun(secret: Secret, token: string, trigger: RotationRecord['trigger']): void {
    const now = this.now();
    if (!secret.versions.has(token)) {
      // The version exists, labelled AWSPENDING, before the function runs; it has no value until
      // the function's createSecret puts one (GetSecretValue on it: ResourceNotFoundException).
      // One version holds a label at a time: AWSPENDING left on AWSCURRENT by the last rotation
      // moves to the new version.
      this.holder(secret, PENDING)?.stages.delete(PENDING);
      secret.versions.set(token, { id: token, stages: new Set([PENDING]), created: now });
    }
    const run: RotationRun = { token, rotationToken: randomBytes(48).toString('base64url') };
    secret.run = run;
    const record: RotationRecord = {
      secretArn: secret.arn,
      token,
      trigger,
      startedAt: now,
      outcome: 'running',
      attempts: [],
    };
    this.rotations.push(record);
    const work = (
      trigger === 'test' ? this.testRotation(secret, run, record) : this.rotate(secret, run, record)
    )
      .catch((error: unknown) => {
        record.outcome = 'failed';
        record.attempts.push({ step: 'emulator', error: describe(error) });
      })
      .finally(() => {
        if (secret.run === run) delete secret.run;
        this.inFlight.delete(work);
      });
    this.inFlight.add(work);
  }

  // ---- reaching rotation functions: the in-process registry first (tests that inject a
  // clock register there), else a function deployed through the Lambda service ----

  // In-process stand-ins stand for functions the suite deployed with their permission (as the
  // stack's rotation function has one); a function deployed through the Lambda API is invoked
  // only if its resource-based policy allows Secrets Manager, as on AWS.
  private canInvoke(arn: string, secretArn: string): boolean {
    if (this.options.functions.has(arn)) return true;
    return this.options.lambda?.allows(arn, 'secretsmanager.amazonaws.com', secretArn) ?? false;
  }

  private invokeFunction(arn: string, event: unknown): Promise<unknown> {
    const { functions, lambda } = this.options;
    if (!functions.has(arn) && lambda?.has(arn)) return lambda.invoke(arn, event);
    return functions.invoke(arn, event);
  }

  private invokeStep(secret: Secret, run: RotationRun, step: string) {
    return this.invokeFunction(secret.rotationLambdaArn!, {
      SecretId: secret.arn,
      ClientRequestToken: run.token,
      Step: step,
      RotationToken: run.rotationToken,
    });
  }

  /**
   * The four steps in order, the whole rotation retried from createSecret with the same token
   * on any failure ("If rotation fails, Secrets Manager retries the entire rotation process
   * multiple times"). After the last attempt fails: RotationFailed, and AWSPENDING stays where
   * it is ("the AWSPENDING staging label might be attached to an empty secret version").
   */
  private async rotate(secret: Secret, run: RotationRun, record: RotationRecord): Promise<void> {
    // Asynchronous, as on AWS: RotateSecret has answered before the first step runs.
    await Promise.resolve();
    this.serviceEvent('RotationStarted', secret);
    let failure = '';
    for (let attempt = 1; attempt <= this.rotationAttempts; attempt++) {
      let failedStep: string | undefined;
      for (const step of STEPS) {
        if (run.stopped) {
          record.outcome = run.stopped;
          return;
        }
        try {
          await this.invokeStep(secret, run, step);
        } catch (error) {
          failedStep = step;
          record.attempts.push({ step, error: describe(error) });
          failure = `Error when executing lambda ${secret.rotationLambdaArn} during ${step} step`;
          break;
        }
      }
      if (run.stopped) {
        record.outcome = run.stopped;
        return;
      }
      if (failedStep) continue;
      // Our choice, stricter than anything AWS documents: a rotation whose finishSecret returned
      // without making the new version AWSCURRENT has not rotated anything, so it counts as failed.
      if (!secret.versions.get(run.token)?.stages.has(CURRENT)) {
        record.attempts.push({
          step: 'finishSecret',
          error: `finishSecret returned but version ${run.token} is not AWSCURRENT`,
        });
        failure = `Lambda ${secret.rotationLambdaArn} finished without moving AWSCURRENT to version ${run.token}`;
        continue;
      }
      record.attempts.push({ step: 'finishSecret' });
      const now = this.now();
      secret.lastRotated = now;
      secret.lastChanged = now;
      if (secret.rotationEnabled && secret.rotationRules)
        secret.window = nextWindow(secret.rotationRules, now);
      record.outcome = 'succeeded';
      this.serviceEvent('RotationSucceeded', secret);
      return;
    }
    record.outcome = 'failed';
    this.serviceEvent('RotationFailed', secret, failure);
  }

  private async testRotation(
    secret: Secret,
    run: RotationRun,
    record: RotationRecord,
  ): Promise<void> {
    await Promise.resolve();
    this.serviceEvent('TestRotationStarted', secret);
    try {
      await this.invokeStep(secret, run, 'testSecret');
      record.attempts.push({ step: 'testSecret' });
      record.outcome = 'succeeded';
      this.serviceEvent('TestRotationSucceeded', secret);
    } catch (error) {
      record.attempts.push({ step: 'testSecret', error: describe(error) });
      record.outcome = 'failed';
      this.serviceEvent(
        'TestRotationFailed',
        secret,
        `Error when executing lambda ${secret.rotationLambdaArn} during testSecret step`,
      );
    } finally {
      secret.versions.get(run.token)?.stages.delete(PENDING);
    }
  }

  /** The moment inside a window that a scheduled rotation runs. */
  private firePoint(window: Window): number {
    return this.rotationWindowPoint === 'start' ? window.start.getTime() : window.end.getTime() - 1;
  }

  private nextScheduled(): Date | undefined {
    let earliest: number | undefined;
    for (const secret of this.secretsNow()) {
      if (!secret.rotationEnabled || !secret.window || secret.run || secret.deletedDate) continue;
      const at = this.firePoint(secret.window);
      if (earliest === undefined || at < earliest) earliest = at;
    }
    return earliest === undefined ? undefined : new Date(earliest);
  }

  /** Starts every rotation due at `at` and waits for them, so the clock moves on only afterwards. */
  private async runScheduled(at: Date): Promise<void> {
    for (const secret of [...this.secrets.values()]) {
      if (!secret.rotationEnabled || !secret.window || secret.run || secret.deletedDate) continue;
      if (this.firePoint(secret.window) > at.getTime()) continue;
      // The window is used up whatever happens; a success reschedules from its own time.
      secret.window = nextWindow(secret.rotationRules!, at);
      if (!secret.rotationLambdaArn || !this.canInvoke(secret.rotationLambdaArn, secret.arn)) {
        this.serviceEvent(
          'RotationFailed',
          secret,
          `Secrets Manager cannot invoke the Lambda function ${secret.rotationLambdaArn}`,
        );
        continue;
      }
      // A rotation left incomplete is reattempted with its own token ("That rotation will be reattempted").
      const stuck = this.pendingRotation(secret);
      this.startRun(secret, stuck?.id ?? randomUUID(), 'schedule');
    }
    await this.idle();
  }

  // ---- events ----

  private serviceEvent(eventName: string, secret: Secret, errorMessage?: string): void {
    this.options.events.emit(
      cloudTrailEvent({
        service: 'secretsmanager',
        detailType: 'AWS Service Event via CloudTrail',
        eventName,
        time: this.now(),
        region: this.options.region,
        accountId: this.options.accountId,
        userIdentity: {
          accountId: this.options.accountId,
          invokedBy: 'secretsmanager.amazonaws.com',
        },
        additionalEventData: { SecretId: secret.arn },
        ...(errorMessage ? { errorMessage } : {}),
      }),
    );
  }

  /** "AWS API Call via CloudTrail" for calls that change a secret (tag changes drive the suite). */
  private apiCallEvent(
    operation: string,
    input: Record<string, unknown>,
    output: Record<string, unknown>,
    caller?: Caller,
  ) {
    const readOnly = ['DescribeSecret', 'GetSecretValue', 'ListSecrets', 'ListSecretVersionIds'];
    if (readOnly.includes(operation)) return;
    const requestParameters: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      // CloudTrail never records secret values.
      if (key === 'SecretString' || key === 'SecretBinary') continue;
      const name = key[0]!.toLowerCase() + key.slice(1);
      requestParameters[name] =
        key === 'Tags' && Array.isArray(value)
          ? value.map((t: { Key: string; Value?: string }) => ({ key: t.Key, value: t.Value }))
          : value;
    }
    const accountId = this.options.accountId;
    const identity = this.options.identityOf?.(caller) ?? {
      type: 'IAMUser',
      principalId: caller?.accessKeyId ?? 'local',
      arn: `arn:aws:iam::${accountId}:user/local`,
      accountId,
      accessKeyId: caller?.accessKeyId ?? '',
      userName: 'local',
    };
    this.options.events.emit(
      cloudTrailEvent({
        service: 'secretsmanager',
        detailType: 'AWS API Call via CloudTrail',
        eventName: operation,
        time: this.now(),
        region: this.options.region,
        accountId,
        userIdentity: identity,
        requestParameters,
        responseElements: typeof output.ARN === 'string' ? { arn: output.ARN } : null,
      }),
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
