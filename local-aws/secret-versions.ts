// A secret's versions and their staging labels: who holds a label, moving one, the quota on how
// many versions a secret may keep, and the two operations that write them (PutSecretValue and
// UpdateSecretVersionStage).

import { randomUUID } from 'node:crypto';
import { type EventSource, serviceEvent } from './cloudtrail-events.ts';
import { nextWindow } from './rotation-schedule.ts';
import {
  CURRENT,
  checkToken,
  DAY,
  MAX_VERSIONS,
  optionalString,
  PENDING,
  type PendingEndState,
  PREVIOUS,
  requireString,
  type Secret,
  secretValueOf,
  type Version,
  validation,
} from './secrets-manager-model.ts';
import { AwsError } from './wire.ts';

export function holderOf(secret: Secret, stage: string): Version | undefined {
  for (const version of secret.versions.values()) if (version.stages.has(stage)) return version;
  return undefined;
}

/** AWSPENDING on a version that is not AWSCURRENT: a rotation in progress (or failed and stuck). */
export function pendingRotation(secret: Secret): Version | undefined {
  const pending = holderOf(secret, PENDING);
  return pending && !pending.stages.has(CURRENT) ? pending : undefined;
}

/**
 * Attaches `stage` to `version`, taking it from whichever version holds it. Moving AWSCURRENT
 * also moves AWSPREVIOUS to the version AWSCURRENT left ("Secrets Manager automatically moves
 * the staging label AWSPREVIOUS to the version that AWSCURRENT was removed from").
 */
export function attach(secret: Secret, version: Version, stage: string): void {
  const from = holderOf(secret, stage);
  if (from === version) return;
  from?.stages.delete(stage);
  version.stages.add(stage);
  if (stage === CURRENT && from) {
    holderOf(secret, PREVIOUS)?.stages.delete(PREVIOUS);
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
export function roomForVersion(secret: Secret, now: Date): void {
  const removable = [...secret.versions.values()]
    .filter((v) => v.stages.size === 0 && now.getTime() - v.created.getTime() >= DAY)
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

/** PutSecretValue on `secret`. */
export function putSecretValue(
  source: EventSource,
  secret: Secret,
  input: Record<string, unknown>,
) {
  const value = secretValueOf(input);
  if (!value) {
    throw new AwsError(
      'InvalidParameterException',
      'You must provide either SecretString or SecretBinary.',
    );
  }
  const token = optionalString(input, 'ClientRequestToken', 64) ?? randomUUID();
  checkToken(token);
  const stagesIn = input.VersionStages;
  if (
    stagesIn !== undefined &&
    (!Array.isArray(stagesIn) || stagesIn.length < 1 || stagesIn.length > 20)
  ) {
    throw validation('versionStages', stagesIn, 'Member must have length between 1 and 20');
  }
  const stages = (stagesIn as string[] | undefined) ?? [CURRENT];
  const now = source.clock.now();
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
  if (!existing) roomForVersion(secret, now);
  const version: Version = existing ?? { id: token, stages: new Set(), created: now };
  version.value = value;
  secret.versions.set(token, version);
  const movesCurrent = stages.includes(CURRENT) && !version.stages.has(CURRENT);
  for (const stage of stages) attach(secret, version, stage);
  secret.lastChanged = now;
  if (movesCurrent) abandonRotation(source, secret, version);
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
function abandonRotation(source: EventSource, secret: Secret, newCurrent: Version): void {
  const pending = pendingRotation(secret);
  if (!pending || pending === newCurrent) return;
  // A rotation's own finishSecret moves AWSCURRENT with UpdateSecretVersionStage, not here.
  pending.stages.delete(PENDING);
  if (secret.run) secret.run.stopped = 'abandoned';
  serviceEvent(source, 'RotationAbandoned', secret);
}

/** UpdateSecretVersionStage on `secret`; `pendingAfterRotation` as the emulator is set. */
export function updateSecretVersionStage(
  secret: Secret,
  input: Record<string, unknown>,
  now: Date,
  pendingAfterRotation: PendingEndState,
) {
  const stage = requireString(input, 'VersionStage', 256);
  const moveTo = optionalString(input, 'MoveToVersionId', 64, 32);
  const removeFrom = optionalString(input, 'RemoveFromVersionId', 64, 32);
  const holder = holderOf(secret, stage);
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
      attach(secret, target, CURRENT);
      if (pendingAfterRotation === 'removed') target.stages.delete(PENDING);
    } else {
      attach(secret, target, stage);
    }
  }
  if (stage === CURRENT && secret.run && moveTo !== secret.run.token && moveTo !== undefined) {
    // Someone moved AWSCURRENT elsewhere mid-rotation: that rotation's work is moot.
    secret.run.stopped = 'abandoned';
  }
  secret.lastChanged = now;
  return { ARN: secret.arn, Name: secret.name };
}
