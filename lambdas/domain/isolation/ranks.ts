// Which copy of a shared token is the less trusted one (SPEC "Environment isolation"): environments
// are ranked by the stack's order, least trusted first (default ci, dev, staging, prod).

import { parseEnvironment } from '../policy.ts';
import type { SecretDescription } from '../ports.ts';
import { TAG } from '../vocabulary.ts';

export const DEFAULT_ENVIRONMENT_ORDER: readonly string[] = ['ci', 'dev', 'staging', 'prod'];

/** An environment's rank in `order` (0 = least trusted); undefined when unknown or untagged. */
export function rankOf(
  environment: string | undefined,
  order: readonly string[],
): number | undefined {
  if (environment === undefined) return undefined;
  const rank = order.indexOf(environment);
  return rank < 0 ? undefined : rank;
}

/**
 * Which of two copies to rotate: the one in the lower-ranked environment, or both when the ranks
 * are equal or either is unknown (no copy can be trusted more than the other).
 */
export function copiesToRotate(
  a: string | undefined,
  b: string | undefined,
  order: readonly string[],
): 'first' | 'second' | 'both' {
  const ra = rankOf(a, order);
  const rb = rankOf(b, order);
  if (ra === undefined || rb === undefined || ra === rb) return 'both';
  return ra < rb ? 'first' : 'second';
}

/** Reads the stack's order setting: comma-separated environment names, least trusted first. */
export function parseEnvironmentOrder(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [...DEFAULT_ENVIRONMENT_ORDER];
  const names = text.split(',').map((n) => n.trim());
  const bad = names.find((n) => !/^[a-z0-9][a-z0-9._-]{0,31}$/.test(n));
  if (bad !== undefined || new Set(names).size !== names.length) {
    throw new Error(
      `environmentOrder is "${text.slice(0, 200)}": expected distinct environment names (lower-case letters, digits, ".", "_" and "-", at most 32 characters) separated by commas, least trusted first (e.g. ci,dev,staging,prod)`,
    );
  }
  return names;
}

/** A secret's valid `token-rotation:environment` tag; undefined when absent or invalid. */
export const environmentOf = (secret: Pick<SecretDescription, 'tags'>): string | undefined => {
  const tag = secret.tags[TAG.environment];
  if (tag === undefined) return undefined;
  const parsed = parseEnvironment(tag);
  return typeof parsed === 'string' ? parsed : undefined;
};
