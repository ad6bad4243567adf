// What an IAM user may do, as the `iam-access-key` kind's actual scopes: the actions its identity
// policies allow (inline and attached, its own and its groups'), read from the documents IAM
// returns. What this cannot see is said in README "Known limitations": permission boundaries,
// service control policies, resource policies, session policies, and conditions.

import { ValidationError } from '#domain/errors';
import type { IssuerContext, PolicyDocument } from '#domain/ports';
import { SCOPE_NAME } from '#domain/scopes';

/** A statement's Action or NotAction: a string or an array of strings. */
function actionList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

/**
 * The actions the documents allow, as IAM action patterns (`s3:GetObject`, `sqs:*`, `*`), each
 * once. Read on the safe side: an Allow with NotAction allows all but a few actions, so it counts
 * as `*`; Deny statements and conditions are not subtracted (a condition may not hold, a Deny may
 * name other resources), so the result can be broader than what IAM would allow, never narrower.
 */
export function allowedActions(
  documents: readonly PolicyDocument[],
  ctx: Pick<IssuerContext, 'secretName'>,
): string[] {
  const actions = new Set<string>();
  for (const { source, document } of documents) {
    const refuse = (why: string) =>
      new ValidationError(
        ctx.secretName,
        'scopes',
        `expected the ${source} to be an IAM policy document, found ${why}`,
        'malformed-value',
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(document);
    } catch {
      throw refuse(`text that is not JSON (${document.length} characters)`);
    }
    const statements = (parsed as { Statement?: unknown } | null)?.Statement;
    const list = Array.isArray(statements)
      ? statements
      : statements === undefined
        ? []
        : [statements];
    for (const statement of list) {
      if (typeof statement !== 'object' || statement === null)
        throw refuse('a statement that is not an object');
      const { Effect, Action, NotAction } = statement as Record<string, unknown>;
      if (Effect !== 'Allow') continue;
      if (NotAction !== undefined) {
        actions.add('*');
        continue;
      }
      const named = actionList(Action);
      if (!named)
        throw refuse('an Allow statement whose Action is not a string or a list of strings');
      for (const action of named) {
        if (!SCOPE_NAME.test(action)) throw refuse('an action that is not an IAM action pattern');
        actions.add(action);
      }
    }
  }
  return [...actions];
}
