// Environment isolation (SPEC "Environment isolation"): the sweep indexes every token it sees under
// its keyed fingerprint, finds one token held by two secrets (`token.shared`: audited, alerted once
// per pair of secrets per token), and with `token-rotation:isolation` = `enforce` rotates the less
// trusted copy at once through RotateSecret, the normal rotation path.
//
// Cost: a value is read only for a version ID the index has not seen. What was indexed per secret
// (version ID -> fingerprint, stages, environment) is kept in the container's memory and in one
// suite-state item per secret, read only when the memory does not know the secret (a new
// container); a secret whose versions, stages and environment are unchanged costs no call at all.
//
// Others index too: the rotation the token it mints, at mint (#domain/rotation/minted-index; the
// sweep still reads that version once, as one its memory does not know, and looks for copies),
// and the emergency revoke every token it revokes (./revoked.ts).

import { describeError } from '../errors.ts';
import { keyedFingerprint } from '../keyed-fingerprint.ts';
import type { AlertOutcome, SecretDescription } from '../ports.ts';
import type { ActionContext } from '../sweep/context.ts';
import { isNew, rotateNow } from '../sweep/context.ts';
import {
  GRACE_EXTENDED_LABEL_PREFIX,
  REVOKE_AFTER_LABEL_PREFIX,
  STAGE,
  TAG,
} from '../vocabulary.ts';
import type { FingerprintKeySource } from './key.ts';
import type { IndexedVersions, TokenIndex } from './ports.ts';
import { copiesToRotate, environmentOf } from './ranks.ts';

export { DEFAULT_ENVIRONMENT_ORDER, parseEnvironmentOrder } from './ranks.ts';
export { markVersionRevoked, revokedTokens } from './revoked.ts';

export interface IsolationDeps {
  index: TokenIndex;
  key: FingerprintKeySource;
  /** The key secret, named in the alert when it cannot be read. */
  keySecret: { arn: string; name: string };
  /** Environments, least trusted first (the stack's `environmentOrder`). */
  environmentOrder: readonly string[];
  /** What this container knows was indexed (see the header). */
  memory: IndexMemory;
}

/** Per container: every secret's indexed versions, loaded once from the index's memory items. */
export interface IndexMemory {
  bySecret: Map<string, IndexedVersions>;
  loading?: Promise<void>;
}

export const newIndexMemory = (): IndexMemory => ({ bySecret: new Map() });

/** Loads the memory items once per container: one Query page per ~1 MB, never a read per secret. */
function loaded(deps: IsolationDeps): Promise<void> {
  deps.memory.loading ??= (async () => {
    for await (const [arn, versions] of deps.index.allIndexedVersions()) {
      if (!deps.memory.bySecret.has(arn)) deps.memory.bySecret.set(arn, versions);
    }
  })().catch((error) => {
    deps.memory.loading = undefined;
    throw error;
  });
  return deps.memory.loading;
}

/** What one look at a secret did, for the sweep's report. */
export interface IndexOutcome {
  /** Values read (versions new to the index). */
  read: number;
  recorded: number;
  /** New `token.shared` incidents (one per pair of secrets per token). */
  shared: number;
  rotated: number;
}

/** Labels whose version holds a token that still works: what the index follows. */
export function isLiveLabel(label: string): boolean {
  return (
    label === STAGE.current ||
    label === STAGE.previous ||
    label.startsWith(REVOKE_AFTER_LABEL_PREFIX) ||
    label.startsWith(GRACE_EXTENDED_LABEL_PREFIX)
  );
}

const enforces = (tags: Record<string, string>) => tags[TAG.isolation] === 'enforce';

/**
 * Indexes the live versions of one listed secret and acts on any token another secret holds.
 * Never throws: isolation is a detective control and must not stop the sweep's other work.
 */
export async function indexSecret(
  c: ActionContext,
  deps: IsolationDeps,
  secret: SecretDescription,
): Promise<IndexOutcome> {
  const outcome: IndexOutcome = { read: 0, recorded: 0, shared: 0, rotated: 0 };
  try {
    await indexVersions(c, deps, secret, outcome);
  } catch (error) {
    c.deps.log?.warn('isolation: could not index a secret', {
      secretArn: secret.arn,
      error: describeError(error),
    });
  }
  return outcome;
}

async function indexVersions(
  c: ActionContext,
  deps: IsolationDeps,
  secret: SecretDescription,
  outcome: IndexOutcome,
): Promise<void> {
  const environment = environmentOf(secret);
  const live = Object.entries(secret.versions).filter(([, labels]) => labels.some(isLiveLabel));
  await loaded(deps);
  const known = deps.memory.bySecret.get(secret.arn) ?? {};
  if (unchanged(live, known, environment)) return;
  const key = await deps.key.get();
  if ('error' in key) {
    if (!reported.has(key)) {
      reported.add(key);
      await keyUnreadable(c, deps, key.error);
    }
    return;
  }
  const issuer = c.deps.issuerFor(secret.tags[TAG.kind], secret);
  const now = c.deps.clock();
  const next: IndexedVersions = {};
  const fresh: string[] = [];
  for (const [versionId, labels] of live) {
    const stages = labels.filter(isLiveLabel);
    let entry = known[versionId];
    if (entry === undefined) {
      outcome.read++;
      const value = await c.deps.store.getValue(secret.arn, { versionId });
      const token = value === undefined ? undefined : issuer.secretToken?.(value);
      entry = {
        stages,
        ...(token !== undefined && { fingerprint: keyedFingerprint(key.key, token) }),
      };
      if (entry.fingerprint) fresh.push(entry.fingerprint);
    }
    next[versionId] = { ...entry, stages, ...(environment !== undefined ? { environment } : {}) };
    if (environment === undefined) delete next[versionId].environment;
    if (entry.fingerprint) {
      await record(
        deps,
        secret,
        { versionId, fingerprint: entry.fingerprint, stages },
        environment,
        now,
      );
      outcome.recorded++;
    }
  }
  await retire(
    deps,
    secret,
    { known, next, revokedByUnstaging: issuer.revokedByUnstaging === true },
    environment,
    now,
  );
  // Looked for before remembering: a copy that enforce could not rotate yet (a rotation of it
  // already under way) leaves its version unremembered, so the next sweep looks again.
  for (const fingerprint of new Set(fresh)) {
    const settled = await lookForCopies(c, deps, secret, environment, fingerprint, outcome);
    if (settled) continue;
    for (const [versionId, entry] of Object.entries(next)) {
      if (entry.fingerprint === fingerprint) delete next[versionId];
    }
  }
  await deps.index.rememberVersions(secret.arn, next);
  deps.memory.bySecret.set(secret.arn, next);
}

const unchanged = (
  live: [string, string[]][],
  known: IndexedVersions,
  environment: string | undefined,
) =>
  live.length === Object.keys(known).length &&
  live.every(([id, labels]) => {
    const entry = known[id];
    return (
      entry !== undefined && sameStages(entry.stages, labels) && entry.environment === environment
    );
  });

function record(
  deps: IsolationDeps,
  secret: SecretDescription,
  version: { versionId: string; fingerprint: string; stages: string[] },
  environment: string | undefined,
  now: Date,
): Promise<void> {
  return deps.index.record(
    {
      ...version,
      secretArn: secret.arn,
      secretName: secret.name,
      ...(environment !== undefined && { environment }),
    },
    now,
  );
}

/**
 * Versions no longer live: their items keep what was last seen, with no stages. A token whose
 * kind is revoked once no staged version holds it (`random`, by its contract) is marked revoked.
 */
async function retire(
  deps: IsolationDeps,
  secret: SecretDescription,
  v: { known: IndexedVersions; next: IndexedVersions; revokedByUnstaging: boolean },
  environment: string | undefined,
  now: Date,
): Promise<void> {
  for (const [versionId, entry] of Object.entries(v.known)) {
    const fingerprint = entry.fingerprint;
    if (v.next[versionId] !== undefined || !fingerprint) continue;
    await record(deps, secret, { versionId, fingerprint, stages: [] }, environment, now);
    const stillHeld = Object.values(v.next).some((n) => n.fingerprint === fingerprint);
    if (v.revokedByUnstaging && !stillHeld) {
      await deps.index.markRevoked(fingerprint, secret.arn, versionId, now);
    }
  }
}

/** Key failures already alerted: one look per failed read, not one per secret of the pass. */
const reported = new WeakSet<object>();

const sameStages = (a: string[], b: string[]) => {
  const live = b.filter(isLiveLabel);
  return a.length === live.length && a.every((s) => live.includes(s));
};

/** Every other secret whose live version holds `fingerprint`: one `token.shared` per pair. */
async function lookForCopies(
  c: ActionContext,
  deps: IsolationDeps,
  secret: SecretDescription,
  environment: string | undefined,
  fingerprint: string,
  outcome: IndexOutcome,
): Promise<boolean> {
  const holders = await deps.index.holders(fingerprint);
  const others = new Map<string, (typeof holders)[number]>();
  for (const h of holders) {
    if (h.secretArn === secret.arn || h.revokedAt !== undefined) continue;
    if (!others.has(h.secretArn)) others.set(h.secretArn, h);
  }
  let settled = true;
  for (const other of others.values()) {
    if (!(await shared(c, deps, secret, environment, fingerprint, other, outcome))) settled = false;
  }
  return settled;
}

async function shared(
  c: ActionContext,
  deps: IsolationDeps,
  secret: SecretDescription,
  environment: string | undefined,
  fingerprint: string,
  other: { secretArn: string; secretName: string; versionId: string; environment?: string },
  outcome: IndexOutcome,
): Promise<boolean> {
  let otherSecret: SecretDescription | undefined;
  try {
    otherSecret = await c.deps.store.describe(other.secretArn);
  } catch {
    // Deleted, or not readable: still a shared token; the alert names it as the index has it.
  }
  const otherEnvironment = otherSecret ? environmentOf(otherSecret) : other.environment;
  const which = copiesToRotate(environment, otherEnvironment, deps.environmentOrder);
  const enforce =
    enforces(secret.tags) || (otherSecret !== undefined && enforces(otherSecret.tags));
  const rotate = enforce
    ? [
        ...(which !== 'second' ? [secret] : []),
        ...(which !== 'first' && otherSecret ? [otherSecret] : []),
      ]
    : [];
  const pair: [Holder, Holder] = [
    { arn: secret.arn, name: secret.name, environment },
    {
      arn: other.secretArn,
      name: otherSecret?.name ?? other.secretName,
      environment: otherEnvironment,
    },
  ];
  const sent = await alertPair(c, secret, fingerprint, pair, rotate, outcome);
  let settled = sent !== 'failed';
  for (const copy of rotate) {
    const sharedWith = copy.arn === secret.arn ? other.secretArn : secret.arn;
    if (await rotateCopy(c, copy, sharedWith)) outcome.rotated++;
    else settled = false;
  }
  // Neither recorded nor sent, or a copy not rotated yet: the next sweep must find the pair again.
  return settled;
}

/**
 * One alert per pair of secrets per token, raised on the pair's first ARN in order so that
 * whichever secret the sweep reaches first the incident is the same; audited once per incident
 * (an alert that could be neither recorded nor sent is audited, and tried again next sweep).
 */
async function alertPair(
  c: ActionContext,
  secret: SecretDescription,
  fingerprint: string,
  pair: [Holder, Holder],
  rotate: SecretDescription[],
  outcome: IndexOutcome,
): Promise<AlertOutcome | 'failed'> {
  const [first, second] = [...pair].sort((a, b) => (a.arn < b.arn ? -1 : 1)) as [Holder, Holder];
  const sent = await c.alert(bare(first), 'token.shared', {
    incident: `${fingerprint}#${second.arn}`,
    other: second,
    environment: first.environment,
    enforced: rotate.map((s) => s.name),
  });
  if (isNew(sent)) outcome.shared++;
  if (!isNew(sent) && sent !== 'failed') return sent;
  const [, other] = pair;
  await c.deps.audit.append(
    c.entry(secret, {
      event: 'token.shared',
      outcome: 'reported',
      detail: {
        fingerprint,
        otherSecret: other.arn,
        ...(pair[0].environment !== undefined && { environment: pair[0].environment }),
        ...(other.environment !== undefined && { otherEnvironment: other.environment }),
        enforce: rotate.length > 0,
      },
    }),
  );
  return sent;
}

/** `isolation=enforce`: RotateSecret now, the normal rotation path, audited either way. */
async function rotateCopy(
  c: ActionContext,
  copy: SecretDescription,
  sharedWith: string,
): Promise<boolean> {
  try {
    return await rotateNow(
      c,
      copy,
      { event: 'rotation.requested', detail: { reason: 'token.shared', sharedWith } },
      () =>
        c.deps.pace(() => c.deps.catalog.rotate(copy.arn, { immediately: true }), 'RotateSecret'),
    );
  } catch (error) {
    c.deps.log?.warn('isolation: enforce could not rotate a copy', {
      secretArn: copy.arn,
      error: describeError(error),
    });
    return false;
  }
}

/** A secret an alert or record is about, known by name only. */
const bare = (ref: { arn: string; name: string }) =>
  ({
    arn: ref.arn,
    name: ref.name,
    versions: {},
    rotationEnabled: false,
    tags: {},
  }) as SecretDescription;

interface Holder {
  arn: string;
  name: string;
  environment: string | undefined;
}

/** The key cannot be read: alerted once (the alert's incident), the pass goes on unindexed. */
async function keyUnreadable(c: ActionContext, deps: IsolationDeps, error: string): Promise<void> {
  const target = bare(deps.keySecret);
  const sent = await c.alert(target, 'token.index.failed', { error });
  if (!isNew(sent)) return;
  await c.deps.audit
    .append(c.entry(target, { event: 'token.index.failed', outcome: 'failed', error }))
    .catch(() => undefined);
}
