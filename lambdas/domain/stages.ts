// The staging labels of a secret as read back from Secrets Manager after a failure, for the
// failure's alert and audit record: what a person acts on is where the labels stand now, never
// where the failed code assumed they would be.

import type { StagesAfter } from './alerts/fields.ts';
import { describeError } from './errors.ts';
import type { SecretStore } from './ports.ts';
import { STAGE } from './vocabulary.ts';

/** Labels as read back, with the versions map they were read from (to settle what they show). */
export type StagesReadBack =
  | { read: true; current?: string; text: string; versions: Record<string, string[]> }
  | { read: false; text: string };

/** The labels of `versions` as a person reads them: `AWSCURRENT on version v1; ...`. */
export function describeStages(versions: Record<string, string[]>): string {
  const staged = Object.entries(versions).filter(([, stages]) => stages.length > 0);
  return staged.length === 0
    ? 'no version carries a staging label'
    : staged.map(([id, stages]) => `${stages.join(', ')} on version ${id}`).join('; ');
}

/**
 * Reads the secret's labels again (DescribeSecret) after a failure. Never throws: when the read
 * itself fails, says that the stages could not be read back, and why, rather than guessing.
 * `known`: values to redact from the error of that read.
 */
export async function stagesAfterFailure(
  store: Pick<SecretStore, 'describe'>,
  secretArn: string,
  known: Iterable<string> = [],
): Promise<StagesReadBack> {
  try {
    const { versions } = await store.describe(secretArn);
    const current = Object.entries(versions).find(([, s]) => s.includes(STAGE.current))?.[0];
    return {
      read: true,
      ...(current !== undefined ? { current } : {}),
      text: describeStages(versions),
      versions,
    };
  } catch (error) {
    return {
      read: false,
      text: `stages could not be read back (${describeError(error, known)})`,
    };
  }
}

/** The alert's field: the read-back without the versions map. */
export function asStagesAfter(after: StagesReadBack): StagesAfter {
  if (!after.read) return after;
  const { versions: _, ...rest } = after;
  return rest;
}
