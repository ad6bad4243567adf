// The `iam-access-key` kind (SPEC "Token kinds"): values are JSON {"userName", "accessKeyId",
// "secretAccessKey"} (other fields carried over). createSecret creates the key, setSecret
// activates it, testSecret signs in with it, and after grace the sweep deactivates the old key
// and deletes it later; an emergency revoke deactivates and deletes at once.
//
// A new key is created inactive and only activated in setSecret. IAM shows its secret once, so
// an attempt that dies between CreateAccessKey and PutSecretValue loses it for good; being
// inactive, that orphan is one the next attempt may delete to make room under IAM's two-key
// limit (which never lets it delete an active key).
//
// The user comes from the secret's own value, so whoever may write a secret could name any user
// under the stack's path: a key is only ever created for a user whose BINDING_TAG names this
// secret (bindingsOf). Retiring a key needs the same binding: a value naming another user's live
// key would otherwise have us deactivate and delete it (access key IDs are not secret). It then
// acts only on the key and user of one version together, never on a key of another user.

import { RotationError, scrub, secretParts, ValidationError } from '#domain/errors';
import type { AccessKeyInfo, AccessKeys, Issuer, IssuerContext } from '#domain/ports';

export const DAY_MS = 86_400_000;

export interface IamAccessKeyOptions {
  keys: AccessKeys;
  /** Injected so tests (and the local AWS's clock) don't wait for real. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Waits between GetCallerIdentity attempts while a new key propagates through IAM (usually
   * seconds). The total stays well inside the rotation function's 2-minute timeout; past it the
   * step fails and Secrets Manager's own retry of the rotation tries again.
   */
  verifyBackoffMs?: number[];
  /** How long a deactivated previous key is kept before it is deleted. Default 7 days. */
  deleteAfterMs?: number;
}

/**
 * The IAM user tag naming the one secret allowed to hold that user's access keys, set by whoever
 * administers the user (so iam:TagUser on those users is as sensitive as iam:CreateAccessKey).
 */
import { allowedActions } from './scopes.ts';

export const BINDING_TAG = 'token-rotation:secret';

export const DEFAULT_VERIFY_BACKOFF_MS = [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000];
export const DEFAULT_DELETE_AFTER_MS = 7 * DAY_MS;

const EXPECTED = 'a JSON object with string fields "userName", "accessKeyId" and "secretAccessKey"';
// IAM's own patterns: user names are [\w+=,.@-]{1,64}; access key IDs are upper-case letters and digits.
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const SECRET_ACCESS_KEY = /^\S{1,128}$/;

interface KeyValue {
  userName: string;
  accessKeyId: string;
  secretAccessKey: string;
  fields: Record<string, unknown>;
}

/** The key in a value, or a description of its shape (never its content) when it is not one. */
function readValue(value: string): KeyValue | { found: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // JSON.parse's own message quotes the input: describe the value instead.
    return { found: `text that is not valid JSON (${value.length} characters)` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {
      found: Array.isArray(parsed)
        ? 'a JSON array'
        : `a JSON ${parsed === null ? 'null' : typeof parsed}`,
    };
  }
  const fields = parsed as Record<string, unknown>;
  const problems: string[] = [];
  const { userName, accessKeyId, secretAccessKey } = fields;
  if (typeof userName !== 'string' || !USER_NAME.test(userName)) {
    problems.push(
      `"userName" ${describe(userName)} (an IAM user name is 1 to 64 of letters, digits and +=,.@_-)`,
    );
  }
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID.test(accessKeyId)) {
    problems.push(
      `"accessKeyId" ${describe(accessKeyId)} (an access key ID is 16 to 128 upper-case letters and digits)`,
    );
  }
  if (typeof secretAccessKey !== 'string' || !SECRET_ACCESS_KEY.test(secretAccessKey)) {
    problems.push(
      `"secretAccessKey" ${describe(secretAccessKey)} (1 to 128 characters, no spaces)`,
    );
  }
  if (problems.length > 0)
    return { found: `a JSON object whose field ${problems.join('; field ')}` };
  return {
    userName: userName as string,
    accessKeyId: accessKeyId as string,
    secretAccessKey: secretAccessKey as string,
    fields,
  };
}

/** A field's shape, never its content. */
function describe(value: unknown): string {
  if (value === undefined) return 'is missing';
  if (value === null) return 'is null';
  if (typeof value === 'string')
    return value === ''
      ? 'is empty'
      : `is a string of ${value.length} characters that does not fit`;
  return `is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}`;
}

function read(value: string, ctx: IssuerContext, step: string, role: string): KeyValue {
  const key = readValue(value);
  if ('found' in key) {
    throw new ValidationError(
      ctx.secretName,
      step,
      `${role} value: expected ${EXPECTED}, found ${key.found}`,
      'malformed-value',
    );
  }
  return key;
}

// Secrets Manager ends every secret ARN in "-" and 6 random letters or digits.
const RANDOM_SUFFIX = /^-[A-Za-z0-9]{6}$/;
const ENDS_LIKE_SUFFIX = /-[A-Za-z0-9]{6}$/;

/**
 * The BINDING_TAG values that bind a user to this secret: its ARN, or its ARN without the random
 * suffix (which an administrator can write before the secret exists). Not the bare name: IAM users
 * are account-wide while secrets are regional, so a name alone could be claimed by a secret of the
 * same name in another region. And not the short form for a secret whose own name ends like a
 * suffix: `ci/key-AbC123`'s short ARN is the full ARN of `ci/key`, which it could otherwise claim.
 */
function bindingsOf(ctx: IssuerContext): string[] {
  const at = ctx.secretArn.indexOf(':secret:');
  if (at < 0 || ENDS_LIKE_SUFFIX.test(ctx.secretName)) return [ctx.secretArn];
  const short = `${ctx.secretArn.slice(0, at + ':secret:'.length)}${ctx.secretName}`;
  const rest = ctx.secretArn.slice(short.length);
  return ctx.secretArn.startsWith(short) && RANDOM_SUFFIX.test(rest)
    ? [ctx.secretArn, short]
    : [ctx.secretArn];
}

const byAge = (a: AccessKeyInfo, b: AccessKeyInfo) =>
  (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0);

/** The user name in an IAM user ARN (`arn:aws:iam::123456789012:user/some/path/name`). */
function userOfArn(arn: string): string | undefined {
  const match = /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match?.[1];
}

/**
 * Makes room for one key under IAM's two-key limit: deletes the oldest inactive key that is
 * not AWSCURRENT's (an orphan of an earlier attempt, or a previous key already deactivated).
 * An active key is never deleted: if every other key is active, the step fails.
 */
async function makeRoom(
  keys: AccessKeys,
  ctx: IssuerContext,
  current: KeyValue,
  found: AccessKeyInfo[],
) {
  if (found.length < 2) return;
  const others = found.filter((key) => key.accessKeyId !== current.accessKeyId);
  const deletable = others.filter((key) => key.status === 'Inactive').sort(byAge);
  const victim = deletable[0];
  if (!victim) {
    const listed = found
      .map(
        (key) =>
          `${key.accessKeyId} (${key.accessKeyId === current.accessKeyId ? 'AWSCURRENT, ' : ''}${key.status.toLowerCase()})`,
      )
      .join(' and ');
    throw new RotationError(
      ctx.secretName,
      'createSecret',
      `expected room for a new access key for IAM user ${current.userName} (IAM allows two), found ${listed}; no active key is deleted`,
      'two-active-keys',
    );
  }
  await keys.delete(current.userName, victim.accessKeyId);
}

/** Refuses to act for a user whose BINDING_TAG does not name this secret. Reads the tags once. */
async function requireBinding(
  keys: AccessKeys,
  ctx: IssuerContext,
  userName: string,
  step = 'createSecret',
  nothingDone = 'no access key was created',
) {
  const tags = await keys.userTags(userName);
  const accepted = bindingsOf(ctx);
  // IAM keeps a user's tag keys unique regardless of case: any spelling is the one tag.
  const found =
    tags === 'missing'
      ? undefined
      : Object.entries(tags).find(([key]) => key.toLowerCase() === BINDING_TAG)?.[1];
  if (found !== undefined && accepted.includes(found)) return;
  const expected = `expected IAM user ${userName} to carry the tag ${BINDING_TAG} naming this secret (${accepted.join(' or ')})`;
  const what =
    tags === 'missing'
      ? 'found IAM has no such user'
      : found === undefined
        ? `found no ${BINDING_TAG} tag on the user`
        : `found ${BINDING_TAG} = ${found === '' ? '(empty)' : found}${found === ctx.secretName ? ' (a bare name: give the ARN, with or without its 6-character suffix)' : ''}`;
  throw new ValidationError(
    ctx.secretName,
    step,
    `${expected}, ${what}; ${nothingDone} (a secret may only hold keys of the IAM user bound to it)`,
    'user-not-bound',
  );
}

/**
 * Retires one version's key: the user and the key of that same version go to IAM together, so
 * IAM acts only if the key is that user's. When IAM has no such key for the user, STS tells a
 * key already gone (refused) from another user's live key, which is left untouched and reported.
 */
async function retire(keys: AccessKeys, ctx: IssuerContext, key: KeyValue, remove: boolean) {
  await requireBinding(keys, ctx, key.userName, 'revoke', 'the key was left untouched');
  const outcome = await keys.setStatus(key.userName, key.accessKeyId, 'Inactive');
  if (outcome === 'missing') {
    const identity = await keys.whoAmI(key);
    const owner = identity.accepted ? userOfArn(identity.arn) : undefined;
    if (identity.accepted && owner !== key.userName) {
      throw new RotationError(
        ctx.secretName,
        'revoke',
        `expected access key ${key.accessKeyId} (version ${ctx.versionId}) to belong to IAM user ${key.userName}, found IAM has no such key for that user while the key signs in as ${identity.arn || 'an unnamed identity'}; left untouched, as a key of another user is never acted on`,
        'key-of-another-user',
      );
    }
    return;
  }
  if (remove) await keys.delete(key.userName, key.accessKeyId);
}

/** createSecret: a new, inactive key for the user bound to this secret, made room for. */
async function mintKey(
  keys: AccessKeys,
  ctx: IssuerContext & { current: string },
): Promise<string> {
  const current = read(ctx.current, ctx, 'createSecret', 'AWSCURRENT');
  await requireBinding(keys, ctx, current.userName);
  await makeRoom(keys, ctx, current, await keys.list(current.userName));
  let created = await keys.create(current.userName);
  if (created === 'limit-exceeded') {
    // A key appeared between the listing and the creation: look again, once.
    await makeRoom(keys, ctx, current, await keys.list(current.userName));
    created = await keys.create(current.userName);
  }
  if (created === 'limit-exceeded') {
    throw new RotationError(
      ctx.secretName,
      'createSecret',
      `expected to create an access key for IAM user ${current.userName}, found IAM's limit of two keys reached again after making room (something else is creating keys for this user)`,
      'two-active-keys',
    );
  }
  try {
    await keys.setStatus(current.userName, created.accessKeyId, 'Inactive');
  } catch (error) {
    // An active key nobody holds is the one orphan we could not clean up later: remove it now.
    await keys.delete(current.userName, created.accessKeyId).catch(() => undefined);
    // The new key's secret is known only here, so the caller cannot redact it: do it now.
    if (error instanceof Error) {
      error.message = scrub(error.message, secretParts(created.secretAccessKey));
    }
    throw error;
  }
  return JSON.stringify({
    ...current.fields,
    userName: current.userName,
    accessKeyId: created.accessKeyId,
    secretAccessKey: created.secretAccessKey,
  });
}

/** setSecret: activates the pending key. */
async function activateKey(
  keys: AccessKeys,
  ctx: IssuerContext & { pending: string },
): Promise<void> {
  const pending = read(ctx.pending, ctx, 'setSecret', `AWSPENDING (version ${ctx.versionId})`);
  const outcome = await keys.setStatus(pending.userName, pending.accessKeyId, 'Active');
  if (outcome === 'missing') {
    throw new RotationError(
      ctx.secretName,
      'setSecret',
      `expected access key ${pending.accessKeyId} of IAM user ${pending.userName} (AWSPENDING, version ${ctx.versionId}) to exist, found IAM has no such key`,
      'key-missing',
    );
  }
}

/** testSecret: signs in with the pending key, waiting out IAM's propagation by `backoff`. */
async function verifyKey(
  keys: AccessKeys,
  wait: { sleep: (ms: number) => Promise<void>; backoff: number[] },
  ctx: IssuerContext & { pending: string },
): Promise<void> {
  const pending = read(ctx.pending, ctx, 'testSecret', `AWSPENDING (version ${ctx.versionId})`);
  const key = { accessKeyId: pending.accessKeyId, secretAccessKey: pending.secretAccessKey };
  let waitedMs = 0;
  let attempts = 0;
  for (;;) {
    attempts++;
    const identity = await keys.whoAmI(key);
    if (identity.accepted) {
      const user = userOfArn(identity.arn);
      if (user !== pending.userName) {
        throw new RotationError(
          ctx.secretName,
          'testSecret',
          `expected access key ${pending.accessKeyId} (AWSPENDING) to sign in as IAM user ${pending.userName}, found it signs in as ${identity.arn || 'an unnamed identity'}`,
          'wrong-identity',
        );
      }
      return;
    }
    const pause = wait.backoff[attempts - 1];
    if (pause === undefined) {
      throw new RotationError(
        ctx.secretName,
        'testSecret',
        `expected STS GetCallerIdentity with access key ${pending.accessKeyId} (AWSPENDING) to succeed, found it refused ${attempts} times over ${Math.round(waitedMs / 1000)} seconds (last: ${identity.code}); the key may be inactive or deleted, or IAM is still propagating it`,
        'key-refused',
      );
    }
    await wait.sleep(pause);
    waitedMs += pause;
  }
}

export function iamAccessKeyIssuer(options: IamAccessKeyOptions): Issuer {
  const { keys } = options;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const backoff = options.verifyBackoffMs ?? DEFAULT_VERIFY_BACKOFF_MS;

  return {
    kind: 'iam-access-key',
    mintCreates: true,
    deleteAfterMs: options.deleteAfterMs ?? DEFAULT_DELETE_AFTER_MS,

    mint: (ctx) => mintKey(keys, ctx),
    activate: (ctx) => activateKey(keys, ctx),
    verify: (ctx) => verifyKey(keys, { sleep, backoff }, ctx),

    async deactivate(ctx) {
      await retire(keys, ctx, read(ctx.value, ctx, 'revoke', `version ${ctx.versionId}`), false);
    },

    // Deactivate first: if the delete then fails, the key already no longer works.
    async revoke(ctx) {
      await retire(keys, ctx, read(ctx.value, ctx, 'revoke', `version ${ctx.versionId}`), true);
    },

    name(value) {
      const key = readValue(value);
      return 'found' in key ? 'unnamed' : key.accessKeyId;
    },

    // A key IAM no longer has was never going to be used again: no use to report.
    ...(keys.lastUsed && {
      async lastUsed(ctx) {
        const key = read(ctx.value, ctx, 'revoke', `version ${ctx.versionId}`);
        const used = await keys.lastUsed!(key.accessKeyId);
        return used === 'missing' ? undefined : used;
      },
    }),

    tokenOf(value) {
      const key = readValue(value);
      return 'found' in key ? undefined : { id: key.accessKeyId, by: 'accessKeyId' };
    },

    // The secret half of the key: the access key ID is not secret and names the key already.
    secretToken(value) {
      const key = readValue(value);
      return 'found' in key ? undefined : key.secretAccessKey;
    },
    // What the key may do is what its user's identity policies allow (scopes.ts).
    ...(keys.policyDocuments && {
      async scopesOf(ctx) {
        const key = read(ctx.value, ctx, 'scopes', `version ${ctx.versionId}`);
        const documents = await keys.policyDocuments!(key.userName);
        if (documents === 'missing') {
          throw new RotationError(
            ctx.secretName,
            'scopes',
            `expected IAM user ${key.userName} (version ${ctx.versionId}) to exist, found IAM has no such user`,
            'key-missing',
          );
        }
        return allowedActions(documents, ctx);
      },
    }),
  };
}
