// The contract between token-rotation and a custom issuer function (`lambda:<fn>` kinds), for
// issuer authors to import. docs/custom-issuers.md explains it; changing a shape here means a
// new contract version, never an edit to v1.

export const ISSUER_CONTRACT = 'token-rotation.issuer/v1';

/**
 * `lastUsed` is optional: a function that does not support it answers ok: false (reason
 * `unsupported-action`), and token-rotation then revokes previous tokens at the end of their
 * grace without asking whether consumers switched.
 */
export type IssuerAction = 'mint' | 'activate' | 'verify' | 'revoke' | 'lastUsed';

/** What token-rotation sends. Values are whole SecretString contents: JSON objects. */
export interface IssuerRequest {
  contract: typeof ISSUER_CONTRACT;
  action: IssuerAction;
  /** The secret being rotated: for naming keys at the issuer and for logs. */
  secret: { arn: string; name: string };
  /**
   * The secret version this action concerns: the new version for mint, activate and verify (an
   * idempotency key: a retried mint carries the same one), the revoked version for revoke.
   */
  versionId: string;
  /** mint, activate: the live value (AWSCURRENT). */
  current?: string;
  /** activate, verify: the new value (AWSPENDING), as mint returned it. */
  pending?: string;
  /** revoke: the value whose token must stop working; lastUsed: the value asked about. */
  value?: string;
  /**
   * mint, verify: the scopes the secret declares (its `token-rotation:scopes` tag), when it
   * declares any. Mint a token with these scopes and no more; a token whose `scopes` answer is
   * broader is refused at testSecret, revoked, and never promoted.
   */
  scopes?: string[];
  /*
   * revoke after grace also carries `current`: the live value, so a function whose mint names
   * neither a `keyId` nor a `tokenField` can refuse (ok: false) to revoke a token still live.
   */
}

/** A JSON field of a token value. */
export type IssuerField = string | number | boolean | null;

/** What the function returns when the action worked. */
export interface IssuerSuccess {
  contract: typeof ISSUER_CONTRACT;
  ok: true;
  /**
   * mint only (required there): the new token's fields, laid over the current value's fields
   * (the others are carried over). Include a non-secret `keyId`: the audit trail and alerts name
   * the token by it. Must change at least one field.
   */
  fields?: Record<string, IssuerField>;
  /**
   * mint only, optional: the name of the field in `fields` that holds the new token (the field
   * that rotates; e.g. "token"). token-rotation records it in the value (TOKEN_FIELD_KEY) and tells
   * two versions' tokens apart by it where they carry no `keyId`. Without a `keyId` or a
   * `tokenField`, token-rotation cannot tell whether a previous version still holds the live
   * token: after grace it sends the previous value (and the live one, as `current`) to `revoke`.
   */
  tokenField?: string;
  /**
   * mint and verify, optional (required where the request carried `scopes`): the scopes the token
   * really has at the issuer, as the issuer itself reports them (not an echo of the request). An
   * array of scope names (letters, digits and `_ . : * ? / + = @ -`, at most 128 characters each,
   * at most 1000). token-rotation records mint's answer in the value (TOKEN_SCOPES_KEY) and
   * refuses a token that either answer shows broader than declared.
   */
  scopes?: string[];
  /**
   * lastUsed only: when the token in `value` last authenticated a request (ISO 8601) and, if the
   * issuer knows, by what (a client name, an IP address: shown in alerts, so nothing secret);
   * null when it was never used. A use after the rotation that replaced the token means a
   * consumer has not switched: its grace is extended once before it is revoked.
   */
  lastUsed?: { at: string; by?: string } | null;
}

/**
 * Where token-rotation records a mint's `tokenField` in the value, so the sweep reads it with the
 * version it describes. Carried over like any other field.
 */
export const TOKEN_FIELD_KEY = 'token-rotation:token-field';

/**
 * Where token-rotation records the scopes a mint answered, so testSecret and the sweep read them
 * with the version they describe. Replaced at every mint (removed when mint states none).
 */
export const TOKEN_SCOPES_KEY = 'token-rotation:token-scopes';

/** What the function returns when the action did not work (or it may throw instead). */
export interface IssuerFailure {
  contract: typeof ISSUER_CONTRACT;
  ok: false;
  /** A short machine-readable reason, e.g. `key-refused`, `quota-exceeded`. */
  reason: string;
  /** For the person reading the alert. Never a token: it is scrubbed, but don't rely on that. */
  message: string;
}

export type IssuerResponse = IssuerSuccess | IssuerFailure;
