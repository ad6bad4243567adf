// An in-memory Secrets Manager speaking the real wire protocol (AWS JSON 1.1), so the real SDK
// client works against it unchanged. It follows the API reference and the user guide; where
// AWS leaves a behaviour open, the comment says which way we went and why. This module holds the
// request handling and the operations on secrets; the model, versions and their labels, the
// views, rotations, ListSecrets' filters, CloudTrail events and quotas each have a module.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CallLog, type CallRecord } from './call-log.ts';
import { apiCallEvent } from './cloudtrail-events.ts';
import { listFilters } from './list-filters.ts';
import { seededRandom } from './random.ts';
import { RotationRuns } from './rotation-runs.ts';
import { SecretTable } from './secret-table.ts';
import { holderOf, putSecretValue, updateSecretVersionStage } from './secret-versions.ts';
import { describeView, listEntry } from './secret-views.ts';
import {
  CURRENT,
  checkToken,
  DAY,
  decodeOffsetToken,
  decodeToken,
  describe,
  encodeOffsetToken,
  encodeToken,
  type ListConsistency,
  markedForDeletion,
  maxResults,
  NAME,
  notFound,
  optionalString,
  type PendingEndState,
  type RotationRecord,
  requireString,
  SECRETS_MANAGER_OPERATIONS,
  type Secret,
  type SecretsManagerOperation,
  type SecretsManagerOptions,
  secretValueOf,
  type Version,
  validation,
  validTags,
  type WindowPoint,
} from './secrets-manager-model.ts';
import { Throttle } from './throttle.ts';
import { AwsError, type Caller, readBody, sendJson, sendJsonError } from './wire.ts';

export { CallLog, type CallRecord } from './call-log.ts';
export type {
  LambdaInvoker,
  ListConsistency,
  PendingEndState,
  RotationRecord,
  SecretsManagerOperation,
  SecretsManagerOptions,
  WindowPoint,
} from './secrets-manager-model.ts';
export { SECRETS_MANAGER_OPERATIONS } from './secrets-manager-model.ts';
export { DOCUMENTED_QUOTAS, Throttle } from './throttle.ts';

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
  private readonly runs: RotationRuns;
  private seq = 0;

  constructor(private readonly options: SecretsManagerOptions) {
    this.rotationAttempts = options.rotationAttempts ?? 3;
    this.rotationWindowPoint = options.rotationWindowPoint ?? 'end';
    this.pendingAfterRotation = options.pendingAfterRotation ?? 'removed';
    this.setListConsistency(options.listConsistency);
    this.throttle = new Throttle(options.throttle, () => options.clock.now().getTime());
    this.runs = new RotationRuns(options, this, this.secrets, this.rotations);
    options.clock.addTimer({
      nextDue: () => this.runs.nextScheduled(),
      fire: (at) => this.runs.runScheduled(at),
    });
  }

  /** Resolves when no rotation is running (RotateSecret returns before its rotation ends, as on AWS). */
  idle(): Promise<void> {
    return this.runs.idle();
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

  /** How long ListSecrets may leave out a changed secret (0 while consistent): a test waits this
   * long on the clock before it expects a listing to show what it did, as it must on AWS. */
  get listConsistencyLagMs(): number {
    return this.consistency?.lagMs ?? 0;
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
    apiCallEvent(this.options, operation, input, output, caller);
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
        return describeView(this.secret(input, { allowDeleted: true }));
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'BatchGetSecretValue':
        return this.batchGetSecretValue(input);
      case 'PutSecretValue':
        return putSecretValue(this.options, this.secret(input), input);
      case 'UpdateSecretVersionStage':
        return updateSecretVersionStage(
          this.secret(input),
          input,
          this.now(),
          this.pendingAfterRotation,
        );
      case 'ListSecrets':
        return this.listSecrets(input);
      case 'ListSecretVersionIds':
        return this.listSecretVersionIds(input);
      case 'RotateSecret':
        return this.runs.rotateSecret(this.secret(input), input);
      case 'CancelRotateSecret':
        return this.runs.cancelRotateSecret(this.secret(input));
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
    checkToken(token);
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
    const tags = validTags(input.Tags);
    const value = secretValueOf(input);
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

  /**
   * BatchGetSecretValue by SecretIdList (1 to 20 IDs; Filters are not modelled): each secret's
   * AWSCURRENT as GetSecretValue answers it, and a secret that cannot be read in Errors, not thrown.
   */
  private batchGetSecretValue(input: Record<string, unknown>) {
    const ids = input.SecretIdList;
    if (input.Filters !== undefined || !Array.isArray(ids) || ids.length < 1 || ids.length > 20) {
      throw new AwsError(
        'InvalidParameterException',
        'expected SecretIdList with 1 to 20 secret IDs (Filters are not modelled here)',
      );
    }
    const [SecretValues, Errors]: [object[], object[]] = [[], []];
    for (const SecretId of ids) {
      try {
        SecretValues.push(this.getSecretValue({ SecretId }));
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        Errors.push({ SecretId, ErrorCode: error.type, Message: error.message });
      }
    }
    return { SecretValues, Errors };
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
      version = holderOf(secret, stage ?? CURRENT);
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

  private listSecrets(input: Record<string, unknown>) {
    const limit = maxResults(input);
    const cursor = decodeToken(input.NextToken);
    const filters = listFilters(input.Filters);
    const matches = (s: Secret) =>
      (input.IncludePlannedDeletion === true || !s.deletedDate) && filters.every((f) => f(s));
    this.secrets.purge(this.now());
    // Sorted by CreatedDate (ListSecrets' SortOrder); creation order breaks ties. The page reads
    // from its cursor on, and one secret further to tell whether another page follows.
    const key = JSON.stringify([input.Filters ?? [], input.IncludePlannedDeletion === true]);
    const candidates = this.secrets.after(cursor, input.SortOrder === 'desc', {
      key,
      selects: matches,
    });
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
      SecretList: page.map(listEntry),
      // A short page continues after its last secret; an empty one where it began.
      ...(more ? { NextToken: encodeToken(last ? SecretTable.cursorOf(last) : cursor) } : {}),
    };
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

  private tagResource(input: Record<string, unknown>) {
    const secret = this.secret(input);
    const tags = validTags(input.Tags);
    for (const tag of tags) {
      const existing = secret.tags.find((t) => t.Key === tag.Key);
      if (existing) existing.Value = tag.Value;
      else secret.tags.push(tag);
    }
    this.secrets.changed();
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
    this.secrets.changed();
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
}
