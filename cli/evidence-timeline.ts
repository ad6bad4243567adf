// What the HTML evidence report draws and judges, per secret: each token version's life (live from
// its rotation, in grace from the rotation that replaced it, revoked when the issuer confirmed),
// read from the verified audit records in the range and the secret's labels now; and the
// compliance figures against the secret's policy: the live token's age against its lifespan, the
// longest previous-token life against its grace, every breach listed.
//
// Only what the records and labels say is drawn: a version live before the range starts at the
// range's edge and is marked so (its age is then at least what is shown, never less); a time no
// record gives is left unknown and not judged, never guessed in the secret's favour.
import { kindOf } from '#domain/kinds/registry';
import { MAX_LIFESPAN_MS, parsePolicy } from '#domain/policy';
import type { AuditRecord, SecretDescription } from '#domain/ports';
import { isQuarantineVersionId } from '#domain/revoke/index';
import { isLive } from '#domain/revoke/live-versions';
import { STAGE, TAG } from '#domain/vocabulary';

/**
 * Slack on lifespan and grace: the sweep acts at its first run after a limit passes, so up to one
 * sweep interval late is on time. The report cannot read the stack's interval (15 minutes by
 * default, at most a day), so it allows an hour and says so.
 */
export const SWEEP_SLACK_MS = 60 * 60_000;

/**
 * `unlabelled`: no staging label holds it now and no record in the range says it was revoked, for
 * a kind whose issuer keeps a token working after its labels go (shown, never counted revoked).
 */
export type VersionState = 'live' | 'in grace' | 'revoked' | 'unlabelled';

export interface VersionSpan {
  versionId: string;
  /** When it went live (its rotation's finishSecret, or an emergency reissue). */
  from: number;
  /** True when it was live before the range began (or when is not known): `from` is then the earliest it can be. */
  fromBeforeRange: boolean;
  /** When the next token replaced it (it entered grace), if it did. */
  replacedAt?: number;
  /** True when `replacedAt` is the earliest the records allow, not a recorded time. */
  replacedAtLeast?: boolean;
  /** When its revocation was confirmed, if it was. */
  revokedAt?: number;
  /** How the revocation is known: a record, or (revoked by unstaging) its labels gone since. */
  revokedBy?: 'record' | 'labels gone' | 'labels gone, time unknown';
  /** The end of its grace's extension (a consumer still used it), as the sweep recorded it. */
  extendedUntil?: number;
  /** How it went live: `rotation`, `emergency reissue`, or `before the range`. */
  origin: string;
  state: VersionState;
}

export interface Compliance {
  /** Why the secret was not judged (no valid policy, a broken chain, quarantined); none when judged. */
  notJudged?: string;
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
  /** Versions holding a quarantine notice (no token): not drawn, not judged. */
  quarantineNotices: string[];
  compliance: Compliance;
}

interface Builder {
  spans: Map<string, VersionSpan>;
  notices: Set<string>;
  rangeFrom: number;
}

function span(b: Builder, versionId: string, at?: number, origin?: string): VersionSpan {
  let s = b.spans.get(versionId);
  if (!s) {
    s = {
      versionId,
      from: at ?? b.rangeFrom,
      fromBeforeRange: at === undefined,
      origin: origin ?? 'before the range',
      state: 'live',
    };
    b.spans.set(versionId, s);
  } else if (at !== undefined && s.fromBeforeRange) {
    Object.assign(s, { from: at, fromBeforeRange: false, origin: origin ?? s.origin });
  }
  return s;
}

function revoked(s: VersionSpan, at: number): void {
  s.revokedAt ??= at;
  s.revokedBy = 'record';
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
    revoked(s, at);
    if (s.replacedAt === undefined) Object.assign(s, { replacedAt: s.from, replacedAtLeast: true });
  } else if (r.event === 'previous.still-used' && v.previous && r.outcome === 'skipped') {
    // `skipped`: the revoke was put off, the grace extended until the recorded time. A
    // `reported` record says the token was revoked anyway: no extension.
    const until = Date.parse(String(r.detail?.extendedUntil ?? ''));
    if (!Number.isNaN(until)) span(b, v.previous).extendedUntil = until;
  } else if (r.event === 'revoke.completed' || r.event === 'revoke.failed') {
    // Both list, by role, the versions the issuer confirmed revoked; a failed revoke's new
    // version is only believed live if the labels say so (readBack).
    for (const [role, versionId] of Object.entries(v)) {
      if (role === 'quarantine') b.notices.add(versionId);
      else if (role === 'reissued') {
        if (r.event === 'revoke.completed') span(b, versionId, at, 'emergency reissue');
      } else revoked(span(b, versionId), at);
    }
  }
}

/**
 * One secret's versions and compliance, from its records in the range (time order, each verified
 * in its chain) and its labels now. `chainBroken`: the records cannot be trusted, so nothing is
 * judged.
 */
export function secretTimeline(
  records: AuditRecord[],
  secret: SecretDescription | undefined,
  range: { from: Date; to: Date },
  chainBroken = false,
): SecretTimeline {
  // A version whose start no record gives began no earlier than the secret itself.
  const created = secret?.createdDate?.getTime() ?? range.from.getTime();
  const b: Builder = {
    spans: new Map(),
    notices: new Set(),
    rangeFrom: Math.max(range.from.getTime(), created),
  };
  const now = range.to.getTime();
  for (const r of records) apply(b, r);
  // A notice is also told by its version ID (quarantine-notice.ts), so one put by a revoke before
  // the range is not drawn and judged as a token.
  for (const id of Object.keys(secret?.versions ?? {})) {
    if (isQuarantineVersionId(id)) b.notices.add(id);
  }
  for (const id of b.notices) b.spans.delete(id);
  const current = secret
    ? Object.entries(secret.versions).find(([, stages]) => stages.includes(STAGE.current))?.[0]
    : undefined;
  if (secret) readBack(b, secret, current, records);
  const spans = [...b.spans.values()].sort((x, y) => x.from - y.from);
  const before = created < range.from.getTime();
  for (const s of spans) {
    s.fromBeforeRange &&= before;
    if (s.state === 'unlabelled') continue;
    s.state =
      s.revokedAt !== undefined || s.revokedBy
        ? 'revoked'
        : s.replacedAt !== undefined
          ? 'in grace'
          : 'live';
  }
  const notice = current !== undefined && b.notices.has(current);
  const compliance = judge(spans, secret, notice ? undefined : current, now);
  if (chainBroken) compliance.notJudged = 'its audit chain is broken: its records are not evidence';
  else if (notice) compliance.notJudged ??= 'quarantined: AWSCURRENT holds a notice, no token';
  return { spans, quarantineNotices: [...b.notices], compliance };
}

/**
 * The labels now, read back. Every version a label keeps working is drawn, recorded or not; a
 * replaced version no label holds any more was revoked when its AWSPREVIOUS moved on (the next
 * rotation) if its kind revokes by unstaging, at a time unknown if no record says when; for other
 * kinds nothing says it stopped working, and it is shown as unlabelled.
 */
function readBack(
  b: Builder,
  secret: SecretDescription,
  current: string | undefined,
  records: AuditRecord[],
): void {
  const byUnstaging = kindOf(secret.tags[TAG.kind])?.capabilities.revokedByUnstaging === true;
  const finishes = records
    .filter((r) => r.event === 'step.succeeded' && r.step === 'finishSecret')
    .map((r) => ({ at: Date.parse(r.at), previous: r.versions?.previous }));
  const currentFrom = () => {
    const s = current ? b.spans.get(current) : undefined;
    if (s && !s.fromBeforeRange) return s.from;
    return secret.lastRotatedDate?.getTime();
  };
  for (const [versionId, stages] of Object.entries(secret.versions)) {
    if (b.notices.has(versionId) || !isLive(stages)) continue;
    const s = span(b, versionId);
    if (versionId === current) {
      const rotated = secret.lastRotatedDate?.getTime();
      if (s.fromBeforeRange && rotated !== undefined && rotated > b.rangeFrom) {
        Object.assign(s, { from: rotated, fromBeforeRange: false, origin: 'rotation' });
      }
    } else if (s.replacedAt === undefined && s.revokedAt === undefined) {
      // Still labelled, replaced at a time no record in the range gives: at least since then.
      const since = stages.includes(STAGE.previous) ? currentFrom() : undefined;
      Object.assign(s, {
        replacedAt: Math.max(since ?? b.rangeFrom, s.from),
        replacedAtLeast: true,
      });
    }
  }
  for (const s of b.spans.values()) {
    if (s.revokedAt !== undefined || isLive(secret.versions[s.versionId] ?? [])) continue;
    if (!byUnstaging) {
      s.state = 'unlabelled';
      continue;
    }
    const movedOn = finishes.find(
      (f) => s.replacedAt !== undefined && f.at > s.replacedAt && f.previous !== s.versionId,
    );
    if (movedOn) Object.assign(s, { revokedAt: movedOn.at, revokedBy: 'labels gone' });
    else s.revokedBy = 'labels gone, time unknown';
  }
}

function judge(
  spans: VersionSpan[],
  secret: SecretDescription | undefined,
  current: string | undefined,
  now: number,
): Compliance {
  const parsed = secret ? parsePolicy(secret, { maxLifespanMs: MAX_LIFESPAN_MS }) : undefined;
  const policy = parsed?.ok ? parsed.policy : undefined;
  const out: Compliance = { currentAgeAtLeast: false, breaches: [] };
  const live = spans.find((s) => s.versionId === current);
  if (live)
    Object.assign(out, { currentAgeMs: now - live.from, currentAgeAtLeast: live.fromBeforeRange });
  if (!policy) {
    out.notJudged = secret ? 'no valid policy tags' : 'not opted in';
    return out;
  }
  Object.assign(out, { lifespanMs: policy.lifespanMs, graceMs: policy.graceMs });
  for (const s of spans) {
    const liveMs = (s.replacedAt ?? s.revokedAt ?? now) - s.from;
    const atLeast = s.fromBeforeRange || s.replacedAtLeast;
    if (liveMs > policy.lifespanMs + SWEEP_SLACK_MS) {
      out.breaches.push(
        `version ${s.versionId} was live ${s.fromBeforeRange ? 'at least ' : ''}${duration(liveMs)}, over its lifespan of ${duration(policy.lifespanMs)}`,
      );
    }
    if (s.replacedAt === undefined) continue;
    // A revoke time no record gives (labels gone, time unknown) is not judged either way.
    if (s.revokedAt === undefined && s.revokedBy) continue;
    const graceMs = (s.revokedAt ?? now) - s.replacedAt;
    if (!out.longestGrace || graceMs > out.longestGrace.ms) {
      out.longestGrace = {
        versionId: s.versionId,
        ms: graceMs,
        ongoing: s.revokedAt === undefined,
      };
    }
    const allowedUntil = Math.max(s.replacedAt + policy.graceMs, s.extendedUntil ?? 0);
    if ((s.revokedAt ?? now) > allowedUntil + SWEEP_SLACK_MS) {
      out.breaches.push(
        `previous version ${s.versionId} ${s.revokedAt === undefined ? 'has kept' : 'kept'} working ${atLeast ? 'at least ' : ''}${duration(graceMs)} after it was replaced, over its grace of ${duration(policy.graceMs)}${s.extendedUntil ? ` (extended until ${new Date(s.extendedUntil).toISOString()})` : ''}`,
      );
    }
  }
  return out;
}

/** A duration in days, hours and minutes, as the report prints it (`1d 0h 10m`, `3h`, `40m`). */
export function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const parts = [d ? `${d}d` : '', d || h ? `${h}h` : '', m || (!d && !h) ? `${m}m` : ''];
  return parts.filter(Boolean).join(' ').replace(/ 0h$/, '');
}
