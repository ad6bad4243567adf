// The Secrets Manager emulator's data model and request checking: the secret and version records,
// the options, the staging-label names, and the validation and paging-token codecs, with messages
// worded as AWS's request validation words them.
import type { LocalClock } from './clock.ts';
import type { EventBus } from './events.ts';
import type { FunctionRegistry } from './functions.ts';
import type { RotationRules, Window } from './rotation-schedule.ts';
import type { Cursor } from './secret-table.ts';
import { AwsError, type Caller } from './wire.ts';

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';
export const PREVIOUS = 'AWSPREVIOUS';
export const DAY = 86_400_000;
/** Versions a secret may hold (see roomForVersion). */
export const MAX_VERSIONS = 100;

export const SECRETS_MANAGER_OPERATIONS = [
  'CreateSecret',
  'DescribeSecret',
  'GetSecretValue',
  'BatchGetSecretValue',
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

export interface Version {
  id: string;
  /** Absent on the AWSPENDING version RotateSecret creates, until the rotation function puts one. */
  value?: { string?: string; binary?: string };
  stages: Set<string>;
  created: Date;
  lastAccessed?: Date;
}

export interface RotationRun {
  token: string;
  rotationToken: string;
  /** Set by CancelRotateSecret or a manual new AWSCURRENT; the run stops at the next step. */
  stopped?: 'cancelled' | 'abandoned';
}

export interface Secret {
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

// ---- validation helpers: messages as AWS's request validation words them ----

export const validation = (field: string, value: unknown, constraint: string) =>
  new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${value === undefined ? 'null' : String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );

export function requireString(
  input: Record<string, unknown>,
  key: string,
  max = 2048,
  min = 1,
): string {
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

export function optionalString(
  input: Record<string, unknown>,
  key: string,
  max = 2048,
  min = 1,
): string | undefined {
  return input[key] === undefined || input[key] === null
    ? undefined
    : requireString(input, key, max, min);
}

export function maxResults(input: Record<string, unknown>): number {
  const value = input.MaxResults;
  if (value === undefined) return 100;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 100) {
    throw validation('maxResults', value, 'Member must have value between 1 and 100');
  }
  return value as number;
}

export const NAME = /^[a-zA-Z0-9/_+=.@-]+$/;
export const notFound = () =>
  new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
export const markedForDeletion = () =>
  new AwsError(
    'InvalidRequestException',
    "You can't perform this operation on the secret because it was marked for deletion.",
  );

// ListSecretVersionIds pages by position: a secret's versions are few.
export const encodeOffsetToken = (offset: number) =>
  Buffer.from(JSON.stringify({ offset })).toString('base64');
export function decodeOffsetToken(token: unknown): number {
  if (token === undefined) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'));
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {}
  throw new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.');
}

// ListSecrets' token names the secret a page ended after (null: the page was empty and began at the start).
export const encodeToken = (after: Cursor | undefined) =>
  Buffer.from(JSON.stringify({ after: after ? [after.created, after.seq] : null })).toString(
    'base64',
  );
export function decodeToken(token: unknown): Cursor | undefined {
  if (token === undefined) return undefined;
  try {
    const { after } = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'));
    if (after === null) return undefined;
    const [created, seq] = after;
    if (Number.isInteger(created) && Number.isInteger(seq)) return { created, seq };
  } catch {}
  throw new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.');
}

export function checkToken(token: string | undefined): void {
  if (token !== undefined && (token.length < 32 || token.length > 64)) {
    throw validation('clientRequestToken', token, 'Member must have length between 32 and 64');
  }
}

export function secretValueOf(input: Record<string, unknown>): Version['value'] | undefined {
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

export function validTags(tags: unknown): { Key: string; Value: string }[] {
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

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
