// An example custom issuer (kind `lambda:<this function>`): mints, verifies and revokes API keys
// at a SaaS with a simple HTTP API (POST /keys, GET /keys, DELETE /keys/{id}, GET /whoami), and
// tells when a key was last used (the optional lastUsed action). Token values
// are JSON {"keyId", "token"}; other fields are carried over by token-rotation.
//
// Environment: SAAS_URL, and the admin key that may create and revoke keys, read from the
// Secrets Manager secret named by SAAS_ADMIN_KEY_SECRET (or, for local tests only, SAAS_ADMIN_KEY).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ISSUER_CONTRACT,
  type IssuerFailure,
  type IssuerRequest,
  type IssuerResponse,
} from '#domain/kinds/custom/contract';

/** Each call to the SaaS; token-rotation waits 30 seconds for the whole invocation. */
const HTTP_TIMEOUT_MS = 10_000;

let adminKey: Promise<string> | undefined;

function loadAdminKey(): Promise<string> {
  const secretId = process.env.SAAS_ADMIN_KEY_SECRET;
  if (secretId) {
    return new SecretsManagerClient({})
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then(({ SecretString }) => {
        if (!SecretString) throw new Error(`secret ${secretId} holds no admin key`);
        return SecretString.trim();
      });
  }
  const key = process.env.SAAS_ADMIN_KEY;
  if (!key) throw new Error('set SAAS_ADMIN_KEY_SECRET (or SAAS_ADMIN_KEY) to the SaaS admin key');
  return Promise.resolve(key);
}

const failure = (reason: string, message: string): IssuerFailure => ({
  contract: ISSUER_CONTRACT,
  ok: false,
  reason,
  message,
});

async function saas(path: string, key: string, init: RequestInit = {}): Promise<Response> {
  const base = process.env.SAAS_URL;
  if (!base) throw new Error('set SAAS_URL to the SaaS API base URL');
  return fetch(new URL(path, base), {
    ...init,
    headers: { ...init.headers, authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
}

/** The `token` and `keyId` fields of a value; never echoes the value itself. */
function tokenOf(value: string | undefined): { token: string; keyId?: string } | undefined {
  try {
    const parsed = JSON.parse(value ?? '') as { token?: unknown; keyId?: unknown };
    if (typeof parsed.token !== 'string' || parsed.token === '') return undefined;
    return {
      token: parsed.token,
      ...(typeof parsed.keyId === 'string' && { keyId: parsed.keyId }),
    };
  } catch {
    return undefined;
  }
}

/** The SaaS's list of a key's scopes, as strings; undefined when it gave none. */
function scopeList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : undefined;
}

export async function handler(request: IssuerRequest): Promise<IssuerResponse> {
  if (request?.contract !== ISSUER_CONTRACT) {
    return failure('unsupported-contract', `this function speaks ${ISSUER_CONTRACT} only`);
  }
  switch (request.action) {
    case 'mint': {
      // The version ID as idempotency key: a retried mint gets the same key, not a second one.
      adminKey ??= loadAdminKey();
      // The declared scopes (token-rotation:scopes), when the secret declares any: ask for them.
      const res = await saas('/keys', await adminKey, {
        method: 'POST',
        headers: { 'idempotency-key': request.versionId, 'content-type': 'application/json' },
        body: JSON.stringify(request.scopes ? { scopes: request.scopes } : {}),
      });
      if (!res.ok) return failure('mint-refused', `POST /keys answered HTTP ${res.status}`);
      const body = (await res.json()) as { id?: unknown; key?: unknown; scopes?: unknown };
      if (typeof body.id !== 'string' || typeof body.key !== 'string') {
        return failure('mint-malformed', 'POST /keys answered without an id and a key');
      }
      const scopes = scopeList(body.scopes);
      // keyId names the key in audit records and tells versions apart; tokenField says which
      // field rotates (the contract's answer for values whose keyId was lost in an edit).
      return {
        contract: ISSUER_CONTRACT,
        ok: true,
        fields: { keyId: body.id, token: body.key },
        tokenField: 'token',
        // What the SaaS says the key may do, which may be more than was asked: token-rotation
        // compares, and refuses a broader key.
        ...(scopes && { scopes }),
      };
    }
    case 'activate':
      // Keys work as soon as they are created: nothing to do.
      return { contract: ISSUER_CONTRACT, ok: true };
    case 'verify': {
      const pending = tokenOf(request.pending);
      if (!pending) return failure('malformed-value', 'the pending value has no "token" field');
      const res = await saas('/whoami', pending.token);
      if (res.status !== 200)
        return failure('key-refused', `GET /whoami with the new key answered HTTP ${res.status}`);
      const who = (await res.json()) as { keyId?: unknown; scopes?: unknown };
      if (pending.keyId && who.keyId !== pending.keyId) {
        return failure(
          'wrong-key',
          `the new key authenticates as another key than ${pending.keyId}`,
        );
      }
      const scopes = scopeList(who.scopes);
      return { contract: ISSUER_CONTRACT, ok: true, ...(scopes && { scopes }) };
    }
    case 'revoke': {
      const old = tokenOf(request.value);
      if (!old?.keyId) return failure('malformed-value', 'the revoked value has no "keyId" field');
      // Sent after grace when token-rotation cannot tell the tokens apart: never revoke the live key.
      const live = request.current === undefined ? undefined : tokenOf(request.current);
      if (live && (live.keyId === old.keyId || live.token === old.token)) {
        return failure('still-live', `key ${old.keyId} is still the live key; not revoked`);
      }
      adminKey ??= loadAdminKey();
      const res = await saas(`/keys/${encodeURIComponent(old.keyId)}`, await adminKey, {
        method: 'DELETE',
      });
      // 404: already gone, which is what revoke wants (revoke is retried and must be idempotent).
      if (res.status !== 204 && res.status !== 200 && res.status !== 404) {
        return failure('revoke-refused', `DELETE /keys/${old.keyId} answered HTTP ${res.status}`);
      }
      return { contract: ISSUER_CONTRACT, ok: true };
    }
    case 'lastUsed': {
      // Whether consumers switched: the SaaS records each key's last authenticated request.
      const old = tokenOf(request.value);
      if (!old?.keyId) return failure('malformed-value', 'the value has no "keyId" field');
      adminKey ??= loadAdminKey();
      const res = await saas('/keys', await adminKey);
      if (!res.ok) return failure('list-refused', `GET /keys answered HTTP ${res.status}`);
      const keys = (await res.json()) as {
        id?: unknown;
        lastUsedAt?: unknown;
        lastUsedBy?: unknown;
      }[];
      const key = Array.isArray(keys) ? keys.find((k) => k.id === old.keyId) : undefined;
      const at = typeof key?.lastUsedAt === 'string' ? key.lastUsedAt : undefined;
      return {
        contract: ISSUER_CONTRACT,
        ok: true,
        lastUsed: at
          ? { at, ...(typeof key?.lastUsedBy === 'string' && { by: key.lastUsedBy }) }
          : null,
      };
    }
    default:
      return failure(
        'unsupported-action',
        `unknown action ${String((request as { action?: unknown }).action).slice(0, 20)}`,
      );
  }
}
