// A SaaS that issues API keys, standing in for a third party in tests of custom issuers: an admin
// key creates, lists and revokes an account's API keys; any live key authenticates requests.
// Creation honours an Idempotency-Key header, as Stripe's and many other APIs do.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SaasKey {
  id: string;
  key: string;
  account: string;
  admin: boolean;
  revoked: boolean;
  createdAt: string;
  /** What the key may do. A key created without scopes asked for gets the account's defaults. */
  scopes: string[];
  /** The last authenticated request made with the key, and the caller's User-Agent. */
  lastUsedAt?: string;
  lastUsedBy?: string;
}

export interface SaasServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Test setup: a key of `account`, made outside the API. */
  issueKey(account: string, options?: { admin?: boolean; scopes?: string[] }): SaasKey;
  /** Every key of `account`, revoked ones included. */
  keysOf(account: string): SaasKey[];
  /** Whether `key` authenticates a request now. */
  accepts(key: string): boolean;
  /**
   * Test setup: a SaaS that grants more than asked. Every key created from now on also gets
   * `extra` (undefined: back to granting exactly what was asked).
   */
  widenScopes(extra: string[] | undefined): void;
  stop(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body?: unknown) => {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
};

const describe = (k: SaasKey) => ({
  id: k.id,
  createdAt: k.createdAt,
  revoked: k.revoked,
  ...(k.lastUsedAt && { lastUsedAt: k.lastUsedAt, lastUsedBy: k.lastUsedBy }),
});

/** The scopes a key gets when its creation asks for none. */
const DEFAULT_SCOPES = ['read', 'write'];

export async function startSaasServer(options: { now?: () => Date } = {}): Promise<SaasServer> {
  const now = options.now ?? (() => new Date());
  let widen: string[] | undefined;
  const keys = new Map<string, SaasKey>();
  /** Idempotency-Key to the key it created. */
  const created = new Map<string, SaasKey>();

  const issueKey = (
    account: string,
    options: { admin?: boolean; scopes?: string[] } = {},
  ): SaasKey => {
    const key: SaasKey = {
      scopes: [...new Set([...(options.scopes ?? DEFAULT_SCOPES), ...(widen ?? [])])],
      id: `key_${randomBytes(6).toString('hex')}`,
      key: `saas_live_${randomBytes(32).toString('base64url')}`,
      account,
      admin: options.admin ?? false,
      revoked: false,
      createdAt: now().toISOString(),
    };
    keys.set(key.key, key);
    return key;
  };
  const caller = (req: IncomingMessage): SaasKey | undefined => {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const key = match ? keys.get(match[1]!) : undefined;
    if (!key || key.revoked) return undefined;
    key.lastUsedAt = now().toISOString();
    key.lastUsedBy = String(req.headers['user-agent'] ?? 'unknown').slice(0, 100);
    return key;
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const who = caller(req);
    if (!who) return json(res, 401, { error: 'unauthenticated' });
    const path = new URL(req.url ?? '/', 'http://saas').pathname;
    if (req.method === 'GET' && path === '/whoami') {
      return json(res, 200, { account: who.account, keyId: who.id, scopes: who.scopes });
    }
    if (!who.admin) return json(res, 403, { error: 'admin key required' });
    if (req.method === 'POST' && path === '/keys') {
      const idempotency = String(req.headers['idempotency-key'] ?? '');
      const scoped = `${who.account}/${idempotency}`;
      const earlier = idempotency ? created.get(scoped) : undefined;
      let asked: string[] | undefined;
      try {
        const body = text === '' ? {} : (JSON.parse(text) as { scopes?: unknown });
        if (body.scopes !== undefined) {
          if (!Array.isArray(body.scopes) || !body.scopes.every((s) => typeof s === 'string'))
            return json(res, 400, { error: 'scopes must be a list of strings' });
          asked = body.scopes as string[];
        }
      } catch {
        return json(res, 400, { error: 'body is not JSON' });
      }
      const key = earlier ?? issueKey(who.account, asked ? { scopes: asked } : {});
      if (idempotency) created.set(scoped, key);
      return json(res, earlier ? 200 : 201, { id: key.id, key: key.key, scopes: key.scopes });
    }
    if (req.method === 'GET' && path === '/keys') {
      return json(
        res,
        200,
        [...keys.values()].filter((k) => k.account === who.account).map(describe),
      );
    }
    const revoke = /^\/keys\/([\w-]+)$/.exec(path);
    if (req.method === 'DELETE' && revoke) {
      const key = [...keys.values()].find((k) => k.id === revoke[1] && k.account === who.account);
      if (!key) return json(res, 404, { error: 'no such key' });
      key.revoked = true;
      return json(res, 204);
    }
    return json(res, 404, { error: 'no such route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issueKey,
    keysOf: (account) =>
      [...keys.values()].filter((k) => k.account === account).map((k) => ({ ...k })),
    accepts: (key) => keys.get(key)?.revoked === false,
    widenScopes: (extra) => {
      widen = extra;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
