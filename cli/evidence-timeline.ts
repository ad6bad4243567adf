// What the HTML evidence report draws and judges, per secret: each token version's life (live from
// its rotation, in grace from the rotation that replaced it, revoked when the issuer confirmed),
// read from the audit records in the range and the secret's labels now; and the compliance
// figures against the secret's policy: the live token's age against its lifespan, the longest
// previous-token life against its grace, every breach listed.
//
// Only what the records say is drawn: a version live before the range starts at the range's edge
// and is marked so; its age is then at least what is shown, never less.

import { kindOf } from '#domain/kinds/registry';
import { MAX_LIFESPAN_MS, parsePolicy } from '#domain/policy';
import type { AuditRecord, SecretDescription } from '#domain/ports';
import { isLive } from '#domain/revoke/live-versions';
import { STAGE, TAG } from '#domain/vocabulary';

/**
 * Slack on grace: the sweep revokes a previous token at its first run after grace ends, so a
 * revoke up to one sweep interval (hourly by default) late is on time.
 */
export const GRACE_SLACK_MS = 60 * 60_000;

/**
 * `unlabelled`: no staging label holds it now and no record in the range says it was revoked, for
 * a kind whose issuer keeps a token working after its labels go (shown, never counted revoked).
 */
export type VersionState = 'live' | 'in grace' | 'revoked' | 'unlabelled';

export interface VersionSpan {
  versionId: string;
  /** When it went live (its rotation's finishSecret, or an emergency reissue). */
  from: number;
  /** True when it was live before the range began: `from` is then the range's start. */
  fromBeforeRange: boolean;
  /** When the next token replaced it (it entered grace), if it did. */
  replacedAt?: number;
  /** When its revocation was confirmed, if it was (for kinds revoked by unstaging: labels gone). */
  revokedAt?: number;
  /** How the revocation is known: a record, or (revoked by unstaging) its labels gone since. */
  revokedBy?: 'record' | 'labels gone';
  /** True when its grace was extended because a consumer still used it. */
  graceExtended: boolean;
  /** How it went live: `rotation`, `emergency reissue`, or `before the range`. */
  origin: string;
  state: VersionState;
}

export interface Compliance {
  lifespanMs?: number;
  graceMs?: number;
  /** The live token's (AWSCURRENT's) age now, at least. */
  currentAgeMs?: number;
  currentAgeAtLeast: boolean;
  /** The longest time a replaced token kept working (grace taken), and its version. */
  longestGrace?: { versionId: string; ms: number; ongoing: boolean };
  breaches: string[];
}

export interface SecretTimeline {
  spans: VersionSpan[];
  compliance: Compliance;
}

interface Builder {
  spans: Map<string, VersionSpan>;
  rangeFrom: number;
}

function span(b: Builder, versionId: string, at?: number, origin?: string): VersionSpan {
  let s = b.spans.get(versionId);
  if (!s) {
    const known = at !== undefined;
    s = {
      versionId,
      from: at ?? b.rangeFrom,
      fromBeforeRange: !known,
      graceExtended: false,
      origin: origin ?? 'before the range',
      state: 'live',
    };
    b.spans.set(versionId, s);
  } else if (at !== undefined && s.fromBeforeRange) {
    Object.assign(s, { from: at, fromBeforeRange: false, origin: origin ?? s.origin });
  }
  return s;
}

/** Applies one record to the spans it speaks of. */
function apply(b: Builder, r: AuditRecord): void {
  const at = Date.parse(r.at);
  const v = r.versions ?? {};
  if (r.event === 'step.succeeded' && r.step === 'finishSecret' && v.current) {
    span(b, v.current, at, 'rotation');
    if (v.previous && v.previous !== v.current) span(b, v.previous).replacedAt ??= at;
  } else if (r.event === 'previous.revoked' && v.previous) {
    const s = span(b, v.previous);
    s.revokedAt ??= at;
    s.revokedBy = 'record';
    s.replacedAt ??= at;
  } else if (r.event === 'previous.still-used' && v.previous) {
    span(b, v.previous).graceExtended = true;
  } else if (r.event === 'revoke.completed') {
    for (const [role, versionId] of Object.entries(v)) {
      if (role === 'quarantine') continue;
      if (role === 'reissued') {
        span(b, versionId, at, 'emergency reissue');
        continue;
      }
      const s = span(b, versionId);
      s.revokedAt ??= at;
      s.revokedBy = 'record';
    }
  }
}

/** One secret's versions and compliance, from its records in the range (time order) and its labels now. */
export function secretTimeline(
  records: AuditRecord[],
  secret: SecretDescription | undefined,
  range: { from: Date; to: Date },
): SecretTimeline {
  // A version whose start no record gives began no earlier than the secret itself.
  const created = secret?.createdDate?.getTime() ?? range.from.getTime();
  const b: Builder = { spans: new Map(), rangeFrom: Math.max(range.from.getTime(), created) };
  const now = range.to.getTime();
  for (const r of records) apply(b, r);
  const current = secret
    ? Object.entries(secret.versions).find(([, stages]) => stages.includes(STAGE.current))?.[0]
    : undefined;
  if (current) {
    const s = span(b, current);
    const rotated = secret?.lastRotatedDate?.getTime();
    if (s.fromBeforeRange && rotated !== undefined && rotated > b.rangeFrom) {
      Object.assign(s, { from: rotated, fromBeforeRange: false, origin: 'rotation' });
    }
  }
  const spans = [...b.spans.values()].sort((x, y) => x.from - y.from);
  const before = created < range.from.getTime();
  for (const s of spans) s.fromBeforeRange &&= before;
  if (secret) readBackLabels(spans, secret, records);
  for (const s of spans) {
    if (s.state === 'unlabelled') continue;
    s.state =
      s.revokedAt !== undefined ? 'revoked' : s.replacedAt !== undefined ? 'in grace' : 'live';
  }
  return { spans, compliance: compliance(spans, secret, current, now) };
}

/**
 * The labels now, read back: a replaced version no label holds any more was revoked when its
 * AWSPREVIOUS moved on (the next rotation) if its kind revokes by unstaging; otherwise nothing
 * says it stopped working, and it is shown as unlabelled.
 */
function readBackLabels(spans: VersionSpan[], secret: SecretDescription, records: AuditRecord[]) {
  const byUnstaging = kindOf(secret.tags[TAG.kind])?.capabilities.revokedByUnstaging === true;
  const finishes = records
    .filter((r) => r.event === 'step.succeeded' && r.step === 'finishSecret')
    .map((r) => ({ at: Date.parse(r.at), previous: r.versions?.previous }));
  for (const s of spans) {
    if (s.revokedAt !== undefined || isLive(secret.versions[s.versionId] ?? [])) continue;
    if (!byUnstaging) {
      s.state = 'unlabelled';
      continue;
    }
    const movedOn = finishes.find(
      (f) => f.at > (s.replacedAt ?? s.from) && f.previous !== s.versionId,
    );
    s.revokedAt = movedOn?.at ?? s.replacedAt ?? s.from;
    s.revokedBy = 'labels gone';
  }
}

function compliance(
  spans: VersionSpan[],
  secret: SecretDescription | undefined,
  current: string | undefined,
  now: number,
): Compliance {
  const parsed = secret ? parsePolicy(secret, { maxLifespanMs: MAX_LIFESPAN_MS }) : undefined;
  const policy = parsed?.ok ? parsed.policy : undefined;
  const out: Compliance = { currentAgeAtLeast: false, breaches: [] };
  if (policy) Object.assign(out, { lifespanMs: policy.lifespanMs, graceMs: policy.graceMs });
  const live = spans.find((s) => s.versionId === current);
  if (live) {
    out.currentAgeMs = now - live.from;
    out.currentAgeAtLeast = live.fromBeforeRange;
  }
  for (const s of spans) {
    const liveMs = (s.replacedAt ?? s.revokedAt ?? now) - s.from;
    if (policy && liveMs > policy.lifespanMs) {
      out.breaches.push(
        `version ${s.versionId} was live ${s.fromBeforeRange ? 'at least ' : ''}${days(liveMs)}, over its lifespan of ${days(policy.lifespanMs)}`,
      );
    }
    if (s.replacedAt === undefined) continue;
    const graceMs = (s.revokedAt ?? now) - s.replacedAt;
    if (!out.longestGrace || graceMs > out.longestGrace.ms) {
      out.longestGrace = {
        versionId: s.versionId,
        ms: graceMs,
        ongoing: s.revokedAt === undefined,
      };
    }
    const allowed = policy
      ? policy.graceMs * (s.graceExtended ? 2 : 1) + GRACE_SLACK_MS
      : undefined;
    if (allowed !== undefined && graceMs > allowed) {
      out.breaches.push(
        `previous version ${s.versionId} ${s.revokedAt === undefined ? 'has kept' : 'kept'} working ${days(graceMs)} after it was replaced, over its grace of ${days(policy!.graceMs)}${s.graceExtended ? ' (extended once)' : ''}`,
      );
    }
  }
  return out;
}

/** A duration in days and hours, as the report prints it. */
export function days(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  const d = Math.floor(hours / 24);
  const h = hours % 24;
  if (d > 0) return h ? `${d}d ${h}h` : `${d}d`;
  const m = Math.floor(ms / 60_000) % 60;
  return hours > 0 ? `${hours}h${m ? ` ${m}m` : ''}` : `${Math.floor(ms / 60_000)}m`;
}
