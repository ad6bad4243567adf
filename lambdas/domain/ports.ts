// The domain's view of the outside world. Secrets Manager, DynamoDB, SNS and issuers are reached
// only through these small interfaces, so the rotation, sweep and revoke logic runs unchanged
// against the embedded local AWS, a compatible endpoint, or AWS itself.
import type { AuditAlongside } from './isolation/ports.ts';
import type { AuditEventType, Outcome, Severity, Trigger } from './vocabulary.ts';

/** A clock the tests and the demo can move forward. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** One secret as Secrets Manager describes it (DescribeSecret or a ListSecrets entry). */
export interface SecretDescription {
  arn: string;
  name: string;
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
  /** Secrets Manager's schedule, as stored (e.g. `rate(7 days)` or AutomaticallyAfterDays). */
  rotationRules?: {
    automaticallyAfterDays?: number;
    scheduleExpression?: string;
    duration?: string;
  };
  lastRotatedDate?: Date;
  nextRotationDate?: Date;
  /** Version ID to staging labels. */
  versions: Record<string, string[]>;
  /** Creation time of each version, where known (ListSecretVersionIds; not in DescribeSecret). */
  versionCreated?: Record<string, Date>;
  tags: Record<string, string>;
  deleted?: boolean;
  /** When the secret was created (ListSecrets/DescribeSecret CreatedDate): no version is older. */
  createdDate?: Date;
}

/** Secrets Manager, reduced to what the suite does with it. */
export interface SecretStore {
  describe(secretId: string): Promise<SecretDescription>;
  /**
   * The value of one version, chosen by version ID and/or stage (AWSCURRENT when neither).
   * `undefined` when that version has no value yet (RotateSecret's fresh AWSPENDING).
   */
  getValue(
    secretId: string,
    select?: { versionId?: string; stage?: string },
  ): Promise<string | undefined>;
  /**
   * Puts `value` as version `versionId` labelled AWSPENDING. Returns 'exists' (and changes
   * nothing) when that version already holds a different value; Secrets Manager never
   * overwrites a version.
   */
  putPending(
    secretId: string,
    versionId: string,
    value: string,
    rotationToken?: string,
  ): Promise<'put' | 'exists'>;
  /**
   * When version `versionId` was created (ListSecretVersionIds' CreatedDate; DescribeSecret does
   * not carry it); undefined when the secret lists no such version.
   */
  versionCreated(secretId: string, versionId: string): Promise<Date | undefined>;
  /** Moves a staging label to `toVersionId` (from `fromVersionId`, which must hold it, if any). */
  moveStage(
    secretId: string,
    stage: string,
    toVersionId: string | undefined,
    fromVersionId?: string,
  ): Promise<void>;
}

/** One audit record, as written. Never holds a secret value. */
export interface AuditEntry {
  event: AuditEventType;
  outcome: Outcome;
  secretArn: string;
  secretName: string;
  /** Rotation step, where the event belongs to one. */
  step?: string;
  /** Version IDs involved, by role: `pending`, `current`, `previous`. */
  versions?: Record<string, string>;
  /** Non-secret names of the tokens involved (access key ID, `fp:` fingerprint), by role. */
  tokens?: Record<string, string>;
  trigger: Trigger;
  /** Scrubbed error text, on failures. */
  error?: string;
  /** Free-form, non-secret details (the lifespan, the age, the reason given for a revoke). */
  detail?: Record<string, string | number | boolean>;
}

/** A stored audit record: the entry plus its place in the secret's hash chain. */
export interface AuditRecord extends AuditEntry {
  /** 1-based position in this secret's chain. */
  seq: number;
  /** ISO-8601 time the record was written. */
  at: string;
  prevHash: string;
  hash: string;
}

export interface AuditLog {
  /** Appends to the chain (`alongside` in the same write); throws if it fails: the action must too. */
  append(entry: AuditEntry, alongside?: AuditAlongside): Promise<AuditRecord>;
  /** One secret's history in chain (time) order. */
  history(
    secretArn: string,
    options?: { newestFirst?: boolean; limit?: number },
  ): Promise<AuditRecord[]>;
  /** Everything between two times, in time order. */
  between(from: Date, to: Date): Promise<AuditRecord[]>;
  /** Every event of one type between two times, in time order. */
  ofType(event: AuditEventType, from: Date, to: Date): Promise<AuditRecord[]>;
}

/** An alert, in the words a person reads on a phone. */
export interface Alert {
  event: AuditEventType;
  severity: Severity;
  secretArn: string;
  secretName: string;
  /** What makes two alerts the same incident (e.g. the rotation's version ID). */
  incident: string;
  /** One line: what happened. */
  summary: string;
  /** Why, in plain words (a scrubbed error, a bad tag value). */
  reason?: string;
  versionId?: string;
  /** What the reader should do next, as short lines. */
  nextSteps: string[];
  trigger?: Trigger;
}

/**
 * What became of an alert: `sent` (published now), `queued` (recorded, but publishing failed: it
 * is retried until delivered), or `duplicate` (this incident was already recorded, delivered or on
 * its way). `sent` and `queued` both mean a new incident.
 */
export type AlertOutcome = 'sent' | 'queued' | 'duplicate';

/** What one pass over the undelivered alerts did. */
export interface PendingDelivery {
  /** Undelivered alerts looked at. */
  found: number;
  delivered: number;
  /** Still undelivered after this pass (publishing failed again, or the alert could not be taken). */
  failed: number;
}

export interface Alerter {
  /**
   * Records the alert (a durable outbox) and publishes it, unless this incident was already
   * recorded. Throws only when the alert could be neither recorded nor published.
   */
  send(alert: Alert): Promise<AlertOutcome>;
  /** Publishes recorded alerts still undelivered, oldest first, at most `limit` (the sweep). */
  deliverPending?(options: { limit: number; outOfTime?: () => boolean }): Promise<PendingDelivery>;
}

/**
 * How a token kind mints, activates, tests and revokes tokens at its issuer (SPEC "Token kinds").
 * Values are whole SecretString contents; the issuer owns their format.
 */
export interface Issuer {
  readonly kind: string;
  /**
   * createSecret: a new value derived from the current one (prefix, carried fields). Where
   * `activate` exists, the new token may not work until it has run.
   */
  mint(ctx: IssuerContext & { current: string; scopes?: readonly string[] }): Promise<string>;
  /**
   * Minting creates something at the issuer (an IAM key, a SaaS key), so minting twice for one
   * version leaves an orphan there: createSecret first looks for a value an earlier attempt of
   * the same version already stored, and keeps it. Absent: minting is free (`random`).
   */
  readonly mintCreates?: boolean;
  /**
   * With `mintCreates`: asked again for the same version ID, the issuer returns the key it made
   * then instead of a second one (custom issuers promise it by contract, docs/custom-issuers.md).
   * Only then does an emergency revoke ask `mint` again when its answer was lost. IAM's
   * CreateAccessKey has no such key: not idempotent.
   */
  readonly mintIdempotent?: boolean;
  /**
   * setSecret: make the pending token valid at the issuer. Optional: where the issuer has
   * nothing to activate (`random`), setSecret reads no values, which keeps a rotation within
   * its budget of 8 Secrets Manager calls.
   */
  activate?(ctx: IssuerContext & { pending: string; current: string }): Promise<void>;
  /** testSecret: prove the pending token works. Throws a RotationError when it does not. */
  verify(ctx: IssuerContext & { pending: string }): Promise<void>;
  /**
   * Make a token invalid at the issuer for good, now: in an emergency (no grace), after grace
   * for kinds without `deactivate`, and as the later second stage for kinds with it. Safe to
   * run again: a token already gone counts as revoked.
   */
  revoke(ctx: IssuerContext & { value: string; current?: string }): Promise<void>;
  /**
   * True where `revoke` does nothing at an issuer and a token is revoked once no staged version
   * holds it (`random`): a version counts as revoked only when its staging labels are gone.
   */
  readonly revokedByUnstaging?: boolean;
  /**
   * Optional first stage of a two-stage revoke after grace: stop the token working in a way a
   * person can still undo (IAM: deactivate the key, keep it). The sweep then marks the version
   * with a `token-rotation:delete-after:<time>` staging label and calls `revoke` on it once
   * `deleteAfterMs` has passed. Kinds without it are revoked outright when grace ends.
   */
  deactivate?(ctx: IssuerContext & { value: string }): Promise<void>;
  /** With `deactivate`: how long a deactivated token is kept before `revoke` deletes it. */
  readonly deleteAfterMs?: number;
  /** A non-secret identifier of the token in `value`, for audit records and alerts. */
  name(value: string): string;
  /**
   * The scopes the token in `value` really has, as its issuer says (checked: an issuer's answer is
   * untrusted input), compared with the declared ones as the kind's `capabilities.scopes` says.
   * Undefined when the issuer states none. Absent where the kind cannot say.
   */
  scopesOf?(
    ctx: IssuerContext & { value: string; scopes?: readonly string[] },
  ): Promise<string[] | undefined>;
  /**
   * Which token `value` holds, as the kind's contract identifies it (a key ID, the field the kind
   * or its issuer names as the token), to tell two versions' tokens apart: equal results mean the
   * same token. A digest, never the token. Undefined where the contract does not say: the value's
   * shape is never used to guess.
   */
  tokenOf?(value: string): { id: string; by: string } | undefined;
  /**
   * The token in `value` as the kind's contract names it (never guessed from its shape), for the
   * token index's keyed fingerprint only (#domain/isolation): never logged, stored or shown.
   */
  secretToken?(value: string): string | undefined;
  /**
   * When the token in `value` was last used at its issuer, and by what (a service and region, a
   * caller): the evidence that consumers have switched before a previous token is revoked.
   * Undefined when the issuer has no record of a use. Absent where the issuer cannot say.
   */
  lastUsed?(ctx: IssuerContext & { value: string }): Promise<TokenUse | undefined>;
}

/**
 * Where consumers' verifiers record a previous token's use (the `random` kind has no issuer to
 * ask). Keyed by secret and version; a record holds a time and a consumer name, never a token.
 */
export interface TokenUses {
  /** Records a use at `use.at`, keeping the latest when uses are recorded out of order. */
  record(secretArn: string, versionId: string, use: TokenUse): Promise<void>;
  lastUse(secretArn: string, versionId: string): Promise<TokenUse | undefined>;
}

/** A token's last use as its issuer records it. `by` is free text from the issuer: escape it. */
export interface TokenUse {
  at: Date;
  by: string;
}

export interface IssuerContext {
  secretArn: string;
  secretName: string;
  versionId: string;
}

/** One page of opted-in secrets, as ListSecrets returns them (tags, rotation config, stages). */
export interface SecretPage {
  secrets: SecretDescription[];
  nextToken?: string;
}

/** RotateSecret's options, as SecretCatalog.rotate takes them. */
export interface RotateOptions {
  lambdaArn?: string;
  scheduleExpression?: string;
  duration?: string;
  immediately: boolean;
}

/**
 * Secrets Manager as the sweep and the attach/revoke paths see it: listing, scheduling and
 * tagging. Kept apart from SecretStore so the rotation steps' dependencies stay minimal.
 */
export interface SecretCatalog {
  /** One page (at most 100) of secrets carrying `tagKey`, filtered server-side. */
  listTagged(tagKey: string, nextToken?: string): Promise<SecretPage>;
  /** Creation time of each version (ListSecretVersionIds), for the few secrets that need it. */
  versionDates(secretId: string): Promise<Record<string, Date>>;
  /**
   * RotateSecret. With `lambdaArn`/`scheduleExpression`, attaches or updates the rotation
   * config; with `immediately`, starts a rotation now.
   */
  rotate(secretId: string, options: RotateOptions): Promise<void>;
  /** CancelRotateSecret: detaches rotation. */
  cancelRotation(secretId: string): Promise<void>;
  tag(secretId: string, tags: Record<string, string>): Promise<void>;
  untag(secretId: string, keys: string[]): Promise<void>;
}

/** Where a sweep that ran out of time stopped, so the next one carries on from there. */
export interface SweepCursor {
  /** The ListSecrets NextToken of the page being worked on (absent: the first page). */
  nextToken?: string;
  /** How many secrets of that page were already done. */
  position: number;
  /** Their ARNs, resumed by when set: listed again, a page may differ (eventual consistency). */
  doneOnPage?: string[];
  /** When the interrupted sweep started (ISO-8601), to report how long a full pass takes. */
  startedAt: string;
  /** `managed` once the tagged listing is done and the sweep walks the managed set (the detach
   * pass); absent while it lists. `nextToken` and `position` then refer to the listing no more. */
  phase?: 'managed';
  /** In the managed phase: the last member done (its ARN); the walk resumes after it. */
  managedAfter?: string;
  /** Opted-in secrets the pass had yet to reach when it stopped (SweepReport.backlog). */
  backlog?: number;
}

/** A secret our rotation function was attached to, as the managed set records it. */
export interface ManagedSecret {
  arn: string;
  name: string;
}

/**
 * The secrets the suite attached its rotation to (suite-state items of the audit table). The
 * sweep lists by the lifespan tag, so it never sees a secret whose tag was removed; walking this
 * set is how it finds the ones whose UntagResource event was lost, and detaches them.
 */
export interface ManagedSet {
  add(secret: ManagedSecret): Promise<void>;
  remove(secretArn: string): Promise<void>;
  /** One page of members in ARN order, starting after `after` (an ARN) when given. */
  page(after?: string): Promise<{ members: ManagedSecret[]; last?: string }>;
}

/** Persists the sweep's cursor between invocations (DynamoDB in AWS). */
export interface SweepCursorStore {
  get(): Promise<SweepCursor | undefined>;
  put(cursor: SweepCursor): Promise<void>;
  clear(): Promise<void>;
}

/** One IAM access key, as ListAccessKeys describes it (no secret). */
export interface AccessKeyInfo {
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  createdAt?: Date;
}

/** A new access key: the only time IAM shows its secret. */
export interface NewAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What STS GetCallerIdentity, signed with one key, answered. */
export type CallerIdentity =
  | { accepted: true; arn: string; account: string }
  /** STS refused the key: `code` is its error code (InvalidClientTokenId, SignatureDoesNotMatch). */
  | { accepted: false; code: string };

/** IAM access keys and STS, reduced to what the `iam-access-key` kind does with them. */
export interface AccessKeys {
  list(userName: string): Promise<AccessKeyInfo[]>;
  /** CreateAccessKey; 'limit-exceeded' when the user already has IAM's maximum of two keys. */
  create(userName: string): Promise<NewAccessKey | 'limit-exceeded'>;
  /** UpdateAccessKey; 'missing' when IAM has no such key (or user). */
  setStatus(
    userName: string,
    accessKeyId: string,
    status: 'Active' | 'Inactive',
  ): Promise<'done' | 'missing'>;
  /** DeleteAccessKey; 'missing' when IAM has no such key (or user). */
  delete(userName: string, accessKeyId: string): Promise<'done' | 'missing'>;
  /** STS GetCallerIdentity made with `key`'s own credentials. */
  whoAmI(key: NewAccessKey): Promise<CallerIdentity>;
  /** ListUserTags, every page; 'missing' when IAM has no such user. */
  userTags(userName: string): Promise<Record<string, string> | 'missing'>;
  /**
   * GetAccessKeyLastUsed: when the key last signed a request, for which service in which region;
   * undefined when IAM has no use recorded, 'missing' when it has no such key.
   */
  lastUsed?(accessKeyId: string): Promise<TokenUse | undefined | 'missing'>;
  /** The user's and its groups' identity policies (decoded); 'missing' when IAM has no such user. */
  policyDocuments?(userName: string): Promise<PolicyDocument[] | 'missing'>;
}

/** One IAM policy document (JSON text) and where it came from (`inline policy X of user Y`). */
export type PolicyDocument = { source: string; document: string };

/** What a synchronous Lambda invoke returned: the payload text, and Lambda's FunctionError if the function failed. */
export interface InvokeResult {
  payload: string;
  functionError?: string;
}

/** Invokes the custom issuer functions of `lambda:<fn>` kinds. */
export interface FunctionInvoker {
  /**
   * Invokes `functionName` (a name or ARN) with `payload` (JSON text) and waits at most
   * `timeoutMs`. Throws an error named `IssuerTimeout` when the time runs out.
   */
  invoke(
    functionName: string,
    payload: string,
    options: { timeoutMs: number },
  ): Promise<InvokeResult>;
}

/** What one emergency revoke holds while it runs, and what it leaves behind when done. */
export interface RevokeLock {
  revokeId: string;
  /** What makes two requests the same revoke (an event ID, or the form's mode and reason). */
  requestKey: string;
  mode: string;
  /** Who asked: the trigger's source and principal, for a duplicate's answer. */
  requester: string;
  startedAt: string;
  state: 'running' | 'completed' | 'failed';
  finishedAt?: string;
  /**
   * A stronger request queued behind this revoke and not yet carried out. Still here on a running
   * lock gone stale: its revoke stopped without finishing, and whoever takes the lock over runs it.
   */
  queued?: QueuedRevoke;
}

/**
 * A stronger request (quarantine) that arrived while a weaker revoke (reissue) of the same secret
 * ran: kept on the lock, and carried out by that revoke once it finishes.
 */
export interface QueuedRevoke {
  mode: string;
  /** Already cleaned (revoke.ts cleanReason). */
  reason: string;
  trigger: Trigger;
  requestKey: string;
  detail: Record<string, string>;
  queuedAt: string;
}

export type RevokeClaim =
  | { status: 'claimed' }
  /** Another revoke of this secret is running, or this request already completed: do nothing. */
  | { status: 'held'; by: RevokeLock };

/**
 * One lock per secret for emergency revokes (a conditional write on a STATE# item in DynamoDB):
 * two revokes at once, or the same request twice, do the work once.
 */
export interface RevokeLockStore {
  /**
   * Claims `secretArn` for `lock`, unless a revoke of it is running (and started after
   * `staleBefore`), or a request with one of `sameRequestKeys` already completed on it.
   */
  claim(
    secretArn: string,
    lock: Omit<RevokeLock, 'state' | 'finishedAt'>,
    options: { sameRequestKeys: string[]; staleBefore: Date },
  ): Promise<RevokeClaim>;
  /** The lock as it stands (undefined: never a revoke); finishSecret reads it (rotation.ts). */
  read(secretArn: string): Promise<RevokeLock | undefined>;
  /**
   * Puts `request` on the lock, to be run after revoke `behind`, only while that revoke is running
   * and nothing else is queued. False when it is not (it finished meanwhile: claim again).
   */
  queue(
    secretArn: string,
    behind: string,
    request: QueuedRevoke,
  ): Promise<'queued' | 'not-running' | 'already-queued'>;
  /**
   * Releases the lock. A completed request's key is remembered; a failed one may run again.
   * Returns the request queued behind this revoke, taken off the lock: the caller runs it now.
   */
  finish(
    secretArn: string,
    lock: Pick<RevokeLock, 'revokeId' | 'requestKey'>,
    state: 'completed' | 'failed',
    at: Date,
  ): Promise<QueuedRevoke | undefined>;
}

/** A revoke tag the sweep found still on a secret: its event never arrived, or its revoke stopped. */
export interface TagRevokeRequest {
  secretArn: string;
  /** The tag's value, cleaned for display; the revoke reads the tag itself again. */
  reason: string;
  /**
   * Names this tag request: the same for every sweep that finds the same tag value before a
   * revoke completes (so retries are one request, and one incident), new after one does.
   */
  requestId: string;
}

/**
 * Hands a revoke requested by tag to the revoke function, queued (an asynchronous invoke): the
 * sweep neither waits for nor holds the revoke permissions; the revoke's lock settles any race.
 */
export interface RevokeRequester {
  /** Resolves once the request is queued; throws when it could not be. */
  requestRevoke(request: TagRevokeRequest): Promise<void>;
}
