// In-memory stand-ins for the revoke's surroundings that rotation-fakes.ts does not cover: the
// per-secret revoke lock (same rules as DynamoRevokeLockStore), tagging, and a recording issuer.
import type { Issuer, QueuedRevoke, RevokeClaim, RevokeLock, RevokeLockStore } from '#domain/ports';
import type { FakeSecret } from './rotation-fakes.ts';

export class MemoryRevokeLocks implements RevokeLockStore {
  readonly items = new Map<string, RevokeLock & { doneKeys: Set<string>; queued?: QueuedRevoke }>();
  readonly finished: Array<{ revokeId: string; state: string }> = [];

  async claim(
    secretArn: string,
    lock: Omit<RevokeLock, 'state' | 'finishedAt'>,
    options: { sameRequestKeys: string[]; staleBefore: Date },
  ): Promise<RevokeClaim> {
    const item = this.items.get(secretArn);
    const busy = item?.state === 'running' && item.startedAt >= options.staleBefore.toISOString();
    const repeat = options.sameRequestKeys.some((key) => item?.doneKeys.has(key));
    if (item && (busy || repeat)) return { status: 'held', by: { ...item } };
    this.items.set(secretArn, {
      ...lock,
      state: 'running',
      doneKeys: item?.doneKeys ?? new Set(),
    });
    return { status: 'claimed' };
  }

  async read(secretArn: string): Promise<RevokeLock | undefined> {
    const item = this.items.get(secretArn);
    if (!item) return undefined;
    const { doneKeys: _, ...lock } = item;
    return lock;
  }

  async queue(secretArn: string, behind: string, request: QueuedRevoke) {
    const item = this.items.get(secretArn);
    if (item?.state !== 'running' || item.revokeId !== behind) return 'not-running' as const;
    if (item.queued) return 'already-queued' as const;
    item.queued = request;
    return 'queued' as const;
  }

  async finish(
    secretArn: string,
    lock: Pick<RevokeLock, 'revokeId' | 'requestKey'>,
    state: 'completed' | 'failed',
    at: Date,
  ): Promise<QueuedRevoke | undefined> {
    const item = this.items.get(secretArn);
    this.finished.push({ revokeId: lock.revokeId, state });
    if (item?.revokeId !== lock.revokeId) return undefined;
    item.state = state;
    item.finishedAt = at.toISOString();
    if (state === 'completed') item.doneKeys.add(lock.requestKey);
    const queued = item.queued;
    delete item.queued;
    return queued;
  }
}

/** Tagging that acts on the fake secret, as TagResource and UntagResource would. */
export function fakeCatalog(secret: FakeSecret) {
  const calls: string[] = [];
  return {
    calls,
    async tag(_id: string, tags: Record<string, string>) {
      calls.push(`tag ${Object.keys(tags).join(',')}`);
      Object.assign(secret.tags, tags);
    },
    async untag(_id: string, keys: string[]) {
      calls.push(`untag ${keys.join(',')}`);
      for (const key of keys) delete secret.tags[key];
    },
    async listTagged() {
      return { secrets: [] };
    },
  };
}

/**
 * An issuer for JSON values {"user", "key", "secret"} that records what it revoked, by key,
 * and refuses to revoke the keys in `refuse` (as an issuer outage would).
 */
export function recordingIssuer() {
  let next = 0;
  const state = { revoked: [] as string[], refuse: new Set<string>(), minted: [] as string[] };
  const issuer: Issuer = {
    kind: 'recording',
    async mint(ctx) {
      const { user } = JSON.parse(ctx.current);
      const key = `KEY${++next}`;
      state.minted.push(key);
      return JSON.stringify({ user, key, secret: `Zq${next}xR7vLp2Ws9Tn4Yb6Hc8Jd0Kf3Mg5Nh` });
    },
    async verify() {},
    async revoke(ctx) {
      const { key, secret } = JSON.parse(ctx.value);
      if (state.refuse.has(key)) {
        // An issuer error quoting the value, as careless APIs do: the revoke must scrub it.
        throw new Error(`issuer refused to revoke ${key}: bad credential ${secret}`);
      }
      state.revoked.push(key);
    },
    name: (value) => JSON.parse(value).key,
  };
  return { issuer, state };
}
