// The `lambda:<fn>` kinds (SPEC "Token kinds"): a custom issuer function, invoked synchronously
// with the v1 contract (contract.ts), mints, activates, verifies and revokes tokens at a third
// party. Everything it returns is checked before use: a function that answers garbage, fails or
// times out fails the step cleanly, and no error quotes what it sent or returned.

import {
  describeError,
  errorCode,
  RotationError,
  scrub,
  secretParts,
  ValidationError,
} from '#domain/errors';
import type { FunctionInvoker, Issuer, IssuerContext, TokenUse } from '#domain/ports';
import { readReportedScopes } from '#domain/scopes';
import { tokenDigest } from '#domain/tokens';
import {
  ISSUER_CONTRACT,
  type IssuerAction,
  type IssuerField,
  type IssuerRequest,
  TOKEN_FIELD_KEY,
  TOKEN_SCOPES_KEY,
} from './contract.ts';

export interface CustomIssuerOptions {
  invoker: FunctionInvoker;
  /** The function's name or ARN: the `token-rotation:kind` tag after `lambda:`. */
  functionName: string;
  /**
   * How long one invocation may take. Secrets Manager gives a step the rotation function's
   * 2 minutes and retries a failed rotation by itself, so one 30-second try per step (plus the
   * SDK's retry of throttles) fails fast enough to leave room for the audit and the alert.
   */
  timeoutMs?: number;
}

export const DEFAULT_ISSUER_TIMEOUT_MS = 30_000;

/** Secrets Manager's limit on a SecretString. */
const MAX_VALUE_BYTES = 65_536;
const MAX_FIELDS = 100;
const REASON = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const KEY_ID = /^[\w.:/+=@-]{1,128}$/;

const STEP_OF: Record<IssuerAction, string> = {
  mint: 'createSecret',
  activate: 'setSecret',
  verify: 'testSecret',
  revoke: 'revoke',
  lastUsed: 'revoke',
};

/** The JSON object in a value, or undefined when it is not one. */
function objectOf(value: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isField = (value: unknown): value is IssuerField =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The function a custom kind invokes, and how. */
interface Target {
  invoker: FunctionInvoker;
  functionName: string;
  timeoutMs: number;
  /** How messages name it. */
  fn: string;
}

/** Makes the step's error from what was found instead of a valid answer. */
type Fail = (found: string, reason: string) => RotationError;

type MintResult = { fields: Record<string, IssuerField>; tokenField?: string };

/**
 * Sends one request; returns the function's answer, parsed, or throws through `fail`. `known`:
 * the values sent, kept out of the error.
 */
async function invoke(
  target: Target,
  request: IssuerRequest,
  known: string[],
  fail: Fail,
): Promise<unknown> {
  const { invoker, functionName, timeoutMs } = target;
  let result: Awaited<ReturnType<FunctionInvoker['invoke']>>;
  try {
    result = await invoker.invoke(functionName, JSON.stringify(request), { timeoutMs });
  } catch (error) {
    if (errorCode(error) === 'issuer-timeout') {
      throw fail(`no answer within ${Math.round(timeoutMs / 1000)} seconds`, 'issuer-timeout');
    }
    throw fail(`the invoke failed (${describeError(error, known)})`, 'issuer-unreachable');
  }

  let body: unknown;
  try {
    body = JSON.parse(result.payload);
  } catch {
    body = undefined;
    if (!result.functionError) {
      throw fail(
        `a response that is not JSON (${Buffer.byteLength(result.payload)} bytes)`,
        'issuer-response',
      );
    }
  }

  if (result.functionError) {
    // Lambda's error document: {errorType, errorMessage, trace}. The trace is never kept.
    const doc = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const type =
      typeof doc.errorType === 'string' ? doc.errorType.slice(0, 100) : result.functionError;
    const message =
      typeof doc.errorMessage === 'string' ? `: ${doc.errorMessage.slice(0, 300)}` : '';
    const timedOut = /timedout|timed out/i.test(`${type} ${message}`);
    throw fail(`it failed (${type}${message})`, timedOut ? 'issuer-timeout' : 'issuer-failed');
  }
  return body;
}

/** The answer's envelope checked against the contract: a JSON object, this contract, ok. */
function checkEnvelope(body: unknown, fail: Fail): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw fail(`a response that is ${shapeOf(body)}, not a JSON object`, 'issuer-response');
  }
  const answer = body as Record<string, unknown>;
  if (answer.contract !== ISSUER_CONTRACT) {
    const found =
      typeof answer.contract === 'string'
        ? `"${answer.contract.slice(0, 60)}"`
        : shapeOf(answer.contract);
    throw fail(
      `a response whose "contract" is ${answer.contract === undefined ? 'missing' : found} (expected "${ISSUER_CONTRACT}")`,
      'issuer-response',
    );
  }
  if (answer.ok === false) {
    const reason =
      typeof answer.reason === 'string' && REASON.test(answer.reason)
        ? answer.reason
        : 'unspecified';
    const message = typeof answer.message === 'string' ? `: ${answer.message.slice(0, 300)}` : '';
    throw fail(`it refused (${reason}${message})`, 'issuer-refused');
  }
  if (answer.ok !== true) {
    throw fail(
      `a response whose "ok" is ${answer.ok === undefined ? 'missing' : shapeOf(answer.ok)} (expected true or false)`,
      'issuer-response',
    );
  }
  return answer;
}

/** A mint answer's new fields (and the field holding the token, when it names one), checked. */
function mintResult(answer: Record<string, unknown>, fail: Fail): MintResult {
  const fields = answer.fields;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw fail(
      `a mint response whose "fields" is ${fields === undefined ? 'missing' : shapeOf(fields)} (expected an object of the new token's fields)`,
      'issuer-response',
    );
  }
  const entries = Object.entries(fields as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_FIELDS) {
    throw fail(
      `a mint response with ${entries.length} fields (expected 1 to ${MAX_FIELDS})`,
      'issuer-response',
    );
  }
  const bad = entries.filter(([, v]) => !isField(v)).map(([k]) => k.slice(0, 40));
  if (bad.length > 0) {
    throw fail(
      `a mint response whose fields ${bad.slice(0, 5).join(', ')} are not strings, numbers, booleans or null`,
      'issuer-response',
    );
  }
  const { tokenField } = answer;
  if (tokenField === undefined) return { fields: fields as Record<string, IssuerField> };
  const named = (fields as Record<string, unknown>)[String(tokenField)];
  if (typeof tokenField !== 'string' || typeof named !== 'string' || named === '') {
    throw fail(
      `a mint response whose "tokenField" is ${typeof tokenField === 'string' ? `"${tokenField.slice(0, 40)}", which names no non-empty string in "fields"` : shapeOf(tokenField)} (expected the name of the field holding the new token)`,
      'issuer-response',
    );
  }
  return { fields: fields as Record<string, IssuerField>, tokenField };
}

/** Invokes the function; returns its validated success (fields for mint), or throws a RotationError. */
async function call(
  target: Target,
  action: IssuerAction,
  ctx: IssuerContext,
  values: Pick<IssuerRequest, 'current' | 'pending' | 'value' | 'scopes'>,
): Promise<Record<string, unknown>> {
  const step = STEP_OF[action];
  const { scopes: _declared, ...secretValues } = values;
  const known = Object.values(secretValues)
    .filter((v): v is string => typeof v === 'string')
    .flatMap(secretParts);
  const fail: Fail = (found, reason) =>
    new RotationError(
      ctx.secretName,
      step,
      `expected ${target.fn} to ${action} the token, found ${scrub(found, known)}`,
      reason,
    );
  const request: IssuerRequest = {
    contract: ISSUER_CONTRACT,
    action,
    secret: { arn: ctx.secretArn, name: ctx.secretName },
    versionId: ctx.versionId,
    ...values,
  };
  return checkEnvelope(await invoke(target, request, known, fail), fail);
}

/**
 * The `scopes` of a mint or verify answer, checked (an issuer's answer is untrusted input): the
 * list, or undefined when the answer states none. Required where the request declared scopes.
 */
function answeredScopes(
  answer: Record<string, unknown>,
  declared: readonly string[] | undefined,
  fail: Fail,
  action: IssuerAction,
): string[] | undefined {
  if (answer.scopes === undefined) {
    if (declared === undefined) return undefined;
    throw fail(
      `a ${action} response without "scopes", while the secret declares scopes (expected the scopes the token really has)`,
      'issuer-response',
    );
  }
  const read = readReportedScopes(answer.scopes);
  if (!read.ok)
    throw fail(`a ${action} response whose "scopes" is invalid: ${read.why}`, 'issuer-response');
  return read.scopes;
}

/** The scopes a mint recorded in `value` (TOKEN_SCOPES_KEY); undefined where none. */
function recordedScopes(value: string): string[] | undefined {
  const recorded = objectOf(value)?.[TOKEN_SCOPES_KEY];
  if (typeof recorded !== 'string') return undefined;
  try {
    const read = readReportedScopes(JSON.parse(recorded));
    return read.ok ? read.scopes : ['*'];
  } catch {
    // A record edited into garbage: the token's scopes are unknown, so assume the worst.
    return ['*'];
  }
}

/** A lastUsed answer checked: a time that parses, and a printable "by" of bounded length. */
function lastUsedResult(
  answer: Record<string, unknown>,
  ctx: IssuerContext,
  target: Target,
): TokenUse | undefined {
  const used = answer.lastUsed;
  if (used === null || used === undefined) return undefined;
  const { at, by } = (typeof used === 'object' ? used : {}) as Record<string, unknown>;
  const when = typeof at === 'string' ? new Date(at) : undefined;
  if (!when || Number.isNaN(when.getTime())) {
    throw new RotationError(
      ctx.secretName,
      'revoke',
      `expected ${target.fn} to answer lastUsed with {"at": an ISO 8601 time} or null, found ${shapeOf(used)}`,
      'issuer-response',
    );
  }
  return { at: when, by: typeof by === 'string' && by !== '' ? by.slice(0, 200) : 'unknown' };
}

/** The value as a JSON object, or a ValidationError naming the step and the value's role, not its content. */
function readObject(value: string, ctx: IssuerContext, step: string, role: string) {
  const object = objectOf(value);
  if (!object) {
    throw new ValidationError(
      ctx.secretName,
      step,
      `${role} value: expected a JSON object (a custom issuer's tokens are JSON objects), found ${value.trim() === '' ? 'an empty value' : `other text (${value.length} characters)`}`,
      'malformed-value',
    );
  }
  return object;
}

/** createSecret: the current value with the fields the function minted laid over it. */
async function mintValue(
  target: Target,
  ctx: IssuerContext & { current: string; scopes?: readonly string[] },
): Promise<string> {
  const current = readObject(ctx.current, ctx, 'createSecret', 'AWSCURRENT');
  const answer = await call(target, 'mint', ctx, {
    current: ctx.current,
    ...(ctx.scopes && { scopes: [...ctx.scopes] }),
  });
  const mintFail: Fail = (found, reason) =>
    new RotationError(
      ctx.secretName,
      'createSecret',
      `expected ${target.fn} to mint the token, found ${scrub(found, secretParts(ctx.current))}`,
      reason,
    );
  const { fields, tokenField } = mintResult(answer, mintFail);
  const scopes = answeredScopes(answer, ctx.scopes, mintFail, 'mint');
  const { [TOKEN_SCOPES_KEY]: _stale, ...carried } = current;
  // The scopes as the mint answered them, as JSON text (a value's fields are strings, numbers,
  // booleans or null); removed when the mint states none, so no older answer outlives its token.
  const next = JSON.stringify({
    ...carried,
    ...fields,
    ...(tokenField && { [TOKEN_FIELD_KEY]: tokenField }),
    ...(scopes && { [TOKEN_SCOPES_KEY]: JSON.stringify(scopes) }),
  });
  const fail = (found: string) =>
    new RotationError(
      ctx.secretName,
      'createSecret',
      `expected ${target.fn} to mint a new token, found ${found}`,
      'issuer-response',
    );
  if (JSON.stringify({ ...carried, ...fields }) === JSON.stringify(carried))
    throw fail('fields that change nothing in the current value');
  if (Buffer.byteLength(next) > MAX_VALUE_BYTES) {
    throw fail(
      `fields that make the value ${Buffer.byteLength(next)} bytes (Secrets Manager holds at most ${MAX_VALUE_BYTES})`,
    );
  }
  return next;
}

/** Invokes verify for `ctx.pending`; returns (and remembers in `verified`) the scopes it states. */
async function verifyAnswer(
  target: Target,
  verified: Map<string, string[] | undefined>,
  ctx: IssuerContext & { pending: string },
  how: { step: string; role: string; declared?: readonly string[] },
): Promise<string[] | undefined> {
  readObject(ctx.pending, ctx, how.step, how.role);
  const answer = await call(target, 'verify', ctx, {
    pending: ctx.pending,
    ...(how.declared && { scopes: [...how.declared] }),
  });
  const fail: Fail = (found, reason) =>
    new RotationError(
      ctx.secretName,
      how.step,
      `expected ${target.fn} to verify the token, found ${scrub(found, secretParts(ctx.pending))}`,
      reason,
    );
  // verify states scopes optionally: mint's answer already had to where scopes are declared.
  const scopes = answeredScopes(answer, undefined, fail, 'verify');
  verified.set(ctx.pending, scopes);
  return scopes;
}

/**
 * The scopes of `ctx.value`'s token: what verify answered for it (in testSecret, without a second
 * invoke), else a verify of it (the sweep's check of the live token), with what its mint answered.
 */
async function scopesOfValue(
  target: Target,
  verified: Map<string, string[] | undefined>,
  ctx: IssuerContext & { value: string; scopes?: readonly string[] },
): Promise<string[] | undefined> {
  const answered = verified.has(ctx.value)
    ? verified.get(ctx.value)
    : await verifyAnswer(
        target,
        verified,
        { ...ctx, pending: ctx.value },
        {
          step: 'scopes',
          role: `version ${ctx.versionId}`,
          ...(ctx.scopes && { declared: ctx.scopes }),
        },
      );
  const minted = recordedScopes(ctx.value);
  if (answered === undefined && minted === undefined) return undefined;
  return [...new Set([...(minted ?? []), ...(answered ?? [])])];
}

export function customIssuer(options: CustomIssuerOptions): Issuer {
  const { functionName } = options;
  const target: Target = {
    invoker: options.invoker,
    functionName,
    timeoutMs: options.timeoutMs ?? DEFAULT_ISSUER_TIMEOUT_MS,
    fn: `issuer function ${functionName}`,
  };

  // The scopes each verify answered, by value: testSecret's scopesOf reads them without a second call.
  const verified = new Map<string, string[] | undefined>();

  return {
    kind: `lambda:${functionName}`,
    mintCreates: true,
    // The contract: `mint` for the same versionId returns the same key (docs/custom-issuers.md).
    mintIdempotent: true,
    mint: (ctx) => mintValue(target, ctx),

    async activate(ctx) {
      readObject(ctx.pending, ctx, 'setSecret', `AWSPENDING (version ${ctx.versionId})`);
      await call(target, 'activate', ctx, { current: ctx.current, pending: ctx.pending });
    },

    async verify(ctx) {
      await verifyAnswer(target, verified, ctx, {
        step: 'testSecret',
        role: `AWSPENDING (version ${ctx.versionId})`,
      });
    },
    // What verify answered for this value (testSecret: no second invoke), else a verify of it.
    scopesOf: (ctx) => scopesOfValue(target, verified, ctx),

    async revoke(ctx) {
      readObject(ctx.value, ctx, 'revoke', `version ${ctx.versionId}`);
      await call(target, 'revoke', ctx, {
        value: ctx.value,
        ...(ctx.current !== undefined && { current: ctx.current }),
      });
    },

    async lastUsed(ctx) {
      readObject(ctx.value, ctx, 'revoke', `version ${ctx.versionId}`);
      const answer = await call(target, 'lastUsed', ctx, { value: ctx.value });
      return lastUsedResult(answer, ctx, target);
    },

    // By the contract only: the issuer's keyId, else the field its mint named as the token.
    tokenOf(value) {
      const object = objectOf(value);
      if (!object) return undefined;
      const { keyId } = object;
      if (typeof keyId === 'string' && KEY_ID.test(keyId))
        return { id: `keyId:${keyId}`, by: 'keyId' };
      const field = object[TOKEN_FIELD_KEY];
      const token = typeof field === 'string' ? object[field] : undefined;
      return typeof token === 'string' && token !== ''
        ? { id: `${field}:${tokenDigest(token)}`, by: `tokenField ${field}` }
        : undefined;
    },

    // Only the field the issuer's mint declared as the token (its contract); a keyId names a key
    // and is not secret, so a value without a declared token field is not indexed.
    secretToken(value) {
      const object = objectOf(value);
      const field = object?.[TOKEN_FIELD_KEY];
      const token = typeof field === 'string' ? object?.[field] : undefined;
      return typeof token === 'string' && token !== '' ? token : undefined;
    },

    name(value) {
      const keyId = objectOf(value)?.keyId;
      // A keyId that looks like a credential (an issuer that put the token there) is not shown.
      return typeof keyId === 'string' && KEY_ID.test(keyId) && scrub(keyId) === keyId
        ? keyId
        : 'unnamed';
    },
  };
}
