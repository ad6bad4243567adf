// What DescribeSecret and ListSecrets show of a secret: the fields both share, as each API
// reference words them.
import { daysBetweenRotations, type RotationRules } from './rotation-schedule.ts';
import type { Secret } from './secrets-manager-model.ts';

/** DescribeSecret's answer for `secret`. */
export function describeView(secret: Secret) {
  const stages: Record<string, string[]> = {};
  // "Versions that don't have staging labels are considered deprecated" and are not listed.
  for (const v of secret.versions.values()) if (v.stages.size) stages[v.id] = [...v.stages];
  return {
    ...rotationFields(secret, 'describe'),
    ...(secret.tags.length ? { Tags: secret.tags.map((t) => ({ ...t })) } : {}),
    VersionIdsToStages: stages,
  };
}

/** ListSecrets' entry for `secret`. */
export function listEntry(secret: Secret) {
  const stages: Record<string, string[]> = {};
  for (const v of secret.versions.values()) if (v.stages.size) stages[v.id] = [...v.stages];
  return {
    ...rotationFields(secret, 'list'),
    ...(secret.tags.length ? { Tags: secret.tags.map((t) => ({ ...t })) } : {}),
    SecretVersionsToStages: stages,
  };
}

/**
 * Fields DescribeSecret and ListSecrets share. RotationEnabled is absent for a secret never
 * configured for rotation ("Secrets Manager returns null"). LastRotatedDate is when a rotation
 * last completed successfully (SecretListEntry: "the most recent date and time that the
 * Secrets Manager rotation process was successfully completed"); DescribeSecret's reference
 * adds that it is null while rotation is off, ListSecrets' does not, and we follow each.
 */
function rotationFields(secret: Secret, view: 'describe' | 'list') {
  const rules = secret.rotationRules ? rulesView(secret.rotationRules) : undefined;
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
function rulesView(rules: RotationRules): RotationRules {
  const days = rules.AutomaticallyAfterDays ?? daysBetweenRotations(rules);
  return { ...rules, ...(days !== undefined ? { AutomaticallyAfterDays: days } : {}) };
}
