// The emergency revoke's vocabulary: its modes and limits, what a request carries, what it needs
// from its surroundings, what it reports, and the two errors it throws.

import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import type { RevokedTokens } from '../isolation/ports.ts';
import type {
  Alerter,
  AlertOutcome,
  AuditEntry,
  AuditLog,
  Clock,
  Issuer,
  RevokeLockStore,
  SecretCatalog,
  SecretDescription,
  SecretStore,
} from '../ports.ts';
import type { Trigger } from '../vocabulary.ts';

export const REVOKE_MODES = ['reissue', 'quarantine'] as const;
export type RevokeMode = (typeof REVOKE_MODES)[number];
export const DEFAULT_REVOKE_MODE: RevokeMode = 'reissue';
/**
 * How strong each mode is. A request arriving while a revoke of the same secret runs is compared
 * with it by mode alone, whatever the triggers (tag, runbook, direct invoke, Health event, sweep):
 * as strong or weaker, it joins the running one (which covers it); stronger, it is queued on the
 * lock and carried out right after, by the running revoke. See README "Emergency revoke".
 */
export const MODE_STRENGTH: Record<RevokeMode, number> = { reissue: 1, quarantine: 2 };

/** As long as a tag value may be, so every trigger accepts the same reasons. */
export const MAX_REASON_LENGTH = 256;
/** A form request repeated within 10 to 20 minutes (two buckets) is the same request. */
export const REPEAT_WINDOW_MS = 10 * 60_000;
/** A running revoke older than this crashed (the function's timeout is far shorter). */
export const REVOKE_STALE_MS = 15 * 60_000;

/** The form's key: mode and reason, in a time bucket; the bucket before it counts as the same. */
export function formKeys(mode: RevokeMode, reason: string, now: Date): [string, string] {
  const hash = createHash('sha256').update(`${mode}\n${reason}`, 'utf8').digest('hex').slice(0, 32);
  const bucket = Math.floor(now.getTime() / REPEAT_WINDOW_MS);
  return [`form:${bucket}:${hash}`, `form:${bucket - 1}:${hash}`];
}

export interface RevokeRequest {
  /** The secret's ARN or name. */
  secretId: string;
  /** Untrusted text from a person or an event. Validated and cleaned here. */
  reason: unknown;
  /** `reissue` (default) or `quarantine`; anything else is refused. */
  mode?: unknown;
  trigger: Trigger;
  /** What makes a repeat the same request (an event ID); absent for forms: mode and reason. */
  requestKey?: string;
  /** The tag trigger: the revoke tag must still be on the secret (gone: already handled). */
  requireTag?: boolean;
  /** Non-secret facts about the trigger for the audit record (event ID, execution ID). */
  detail?: Record<string, string>;
}

export interface RevokeDeps {
  store: SecretStore;
  /** Tagging (remove the revoke tag, set last-revoked). */
  catalog: Pick<SecretCatalog, 'tag' | 'untag'>;
  audit: AuditLog;
  alerter: Alerter;
  issuerFor: (kindTag: string | undefined, secret: { arn: string; name: string }) => Issuer;
  locks: RevokeLockStore;
  clock: Clock;
  /** For the runbook's name in the quarantine notice and alerts. */
  stackName?: string;
  newVersionId?: () => string;
  /**
   * The token index (#domain/isolation/revoked): told of each token this revoke proved revoked,
   * so `token-rotation scan` reports it revoked. Absent: the stack has no index.
   */
  tokenIndex?: RevokedTokens;
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
}

/** One version the revoke dealt with, by non-secret names only. */
export interface RevokedVersion {
  versionId: string;
  /** The labels it had when found. */
  stages: string[];
  /** The token's non-secret name (access key ID, `fp:` fingerprint), or what the version held instead. */
  token: string;
}

export type RevokeOutcome =
  | {
      status: 'completed';
      revokeId: string;
      secretArn: string;
      secretName: string;
      mode: RevokeMode;
      revoked: RevokedVersion[];
      /** The new AWSCURRENT: the fresh token, or the quarantine notice. */
      newVersionId: string;
      alert: AlertOutcome | 'failed';
      /** A stronger request that arrived while this one ran, carried out right after it. */
      followedBy?: RevokeOutcome | { status: 'failed'; message: string };
    }
  | {
      status: 'queued';
      secretArn: string;
      secretName: string;
      /** The weaker revoke running now, which carries this request out when it finishes. */
      behind: string;
      message: string;
    }
  | {
      status: 'duplicate';
      secretArn: string;
      secretName: string;
      /** The revoke that did (or is doing) the work. */
      revokeId: string;
      state: 'running' | 'completed' | 'failed';
      message: string;
    }
  | { status: 'ignored'; secretArn: string; secretName: string; message: string };

/** A request refused before anything changed: the secret, what was expected, what was found. */
export class RevokeRequestError extends ValidationError {}

/** A revoke that failed part-way; already audited and alerted. */
export class RevokeFailedError extends Error {
  override readonly name = 'RevokeFailedError';
  constructor(
    message: string,
    readonly revoked: RevokedVersion[],
    readonly notRevoked: RevokedVersion[],
  ) {
    super(message);
  }
}

/** An audit record of this revoke's secret and trigger, from its own fields. */
export type EntryOf = (e: Omit<AuditEntry, 'secretArn' | 'secretName' | 'trigger'>) => AuditEntry;

/** A checked request: the secret it names, read once, and what every step records about it. */
export interface CheckedRequest {
  request: RevokeRequest;
  secret: SecretDescription;
  issuer: Issuer;
  mode: RevokeMode;
  /** The cleaned reason. */
  reason: string;
  /** Every part of every value read so far: redacted from any error text. */
  known: Set<string>;
  /** What every record of this request carries (trigger facts, mode, reason). */
  detail: Record<string, string>;
  entry: EntryOf;
  stackName: string;
}
