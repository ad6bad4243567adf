// What `status` shows of the evidence behind each secret: the last checkpoint that anchors its
// audit chain, and for a previous token still working (AWSPREVIOUS, in grace) whether a consumer
// used it since the rotation that replaced it. Each says where it comes from: use of a `random`
// token is what consumers' verifiers recorded (read live); of an issuer's token, what the sweep
// learned from the issuer when grace ended (`previous.still-used`), else not checked yet.
import type { Checkpoint } from '#domain/audit-anchor';
import { describeError } from '#domain/errors';
import { kindOf } from '#domain/kinds/registry';
import { declaredScopes } from '#domain/policy';
import type { AuditRecord, SecretDescription, TokenUses } from '#domain/ports';
import { STAGE, TAG } from '#domain/vocabulary';

export interface CheckpointStatus {
  /** The checkpoint's own number and time. */
  checkpoint: number;
  at: string;
  /** The chain's last record the checkpoint anchors. */
  chainSeq: number;
}

export interface PreviousTokenStatus {
  versionId: string;
  /** When the token that replaced it was created (the rotation). */
  replacedAt: string | null;
  /**
   * `unknown`: a use is recorded but when the token was replaced is not; `unreadable`: the
   * verifiers' records could not be read (`error` says why).
   */
  use: 'used' | 'none recorded' | 'not checked yet' | 'unknown' | 'unreadable';
  error?: string;
  lastUsed?: { at: string; by: string };
  /** Where `use` comes from. */
  source: 'verifier records' | 'the sweep, asking the issuer at grace end' | 'none yet';
}

/** The secret's head in the newest checkpoint; null when it is not in it (not anchored yet). */
export function checkpointStatus(
  latest: Checkpoint | undefined,
  secretArn: string,
): CheckpointStatus | null {
  const head = latest?.heads.find((h) => h.secretArn === secretArn);
  return latest && head ? { checkpoint: latest.seq, at: latest.at, chainSeq: head.seq } : null;
}

const versionWith = (secret: SecretDescription, stage: string) =>
  Object.entries(secret.versions).find(([, stages]) => stages.includes(stage))?.[0];

/**
 * When the previous token stopped being live, as the sweep judges it: the later of the new
 * version's creation and Secrets Manager's LastRotatedDate (finishSecret). Undefined: unknown.
 */
function replacedAt(secret: SecretDescription, created: Date | undefined): Date | undefined {
  const times = [created, secret.lastRotatedDate].filter((d): d is Date => d !== undefined);
  return times.length ? new Date(Math.max(...times.map((d) => d.getTime()))) : undefined;
}

/** Whether the previous token was used since its rotation; null when there is none in grace. */
export async function previousTokenStatus(
  secret: SecretDescription,
  versionDates: Record<string, Date>,
  recent: AuditRecord[],
  uses: TokenUses,
): Promise<PreviousTokenStatus | null> {
  const current = versionWith(secret, STAGE.current);
  const previous = versionWith(secret, STAGE.previous);
  if (!previous || previous === current) return null;
  const replaced = replacedAt(secret, current ? versionDates[current] : undefined);
  const base = { versionId: previous, replacedAt: replaced ? replaced.toISOString() : null };
  const checked = recent.find(
    (r) => r.event === 'previous.still-used' && r.versions?.previous === previous,
  );
  if (checked) {
    const lastUsed = {
      at: String(checked.detail?.lastUsed ?? checked.at),
      by: String(checked.detail?.usedBy ?? ''),
    };
    return { ...base, use: 'used', lastUsed, source: 'the sweep, asking the issuer at grace end' };
  }
  if (!kindOf(secret.tags[TAG.kind])?.capabilities.usesRecordedByVerifiers) {
    return { ...base, use: 'not checked yet', source: 'none yet' };
  }
  // Its verifiers' records are the whole evidence (`random`), read live.
  let recorded: Awaited<ReturnType<TokenUses['lastUse']>>;
  try {
    recorded = await uses.lastUse(secret.arn, previous);
  } catch (error) {
    return { ...base, use: 'unreadable', source: 'verifier records', error: describeError(error) };
  }
  if (!recorded) return { ...base, use: 'none recorded', source: 'verifier records' };
  const lastUsed = { at: recorded.at.toISOString(), by: recorded.by };
  if (!replaced) return { ...base, use: 'unknown', lastUsed, source: 'verifier records' };
  const use = recorded.at > replaced ? 'used' : 'none recorded';
  return { ...base, use, lastUsed, source: 'verifier records' };
}

/** Declared scopes against the actual ones the suite last read from the issuer (audit trail). */
export interface ScopeStatus {
  /** The `token-rotation:scopes` tag, as declared now. */
  declared: string[];
  /** The last reading: the scopes read, when, of which version, by which step; null: none yet. */
  reading: {
    actual: string;
    at: string;
    versionId?: string;
    by: string;
    /** The reading found the token broader than declared; `extra` names what is beyond. */
    drift: boolean;
    extra?: string;
    /** The token was a new one, refused at testSecret (not the live token). */
    refused: boolean;
  } | null;
}

/** The secret's declared scopes (its `token-rotation:scopes` tag) when the tag is valid. */
export function declaredOf(secret: SecretDescription): string[] | undefined {
  const declared = declaredScopes(secret.tags);
  return Array.isArray(declared) ? declared : undefined;
}

/** Records that carry a scope reading: testSecret's, and the sweep's checks. */
const SCOPE_READINGS = new Set(['step.succeeded', 'token.scope-drift', 'token.scopes-checked']);

/**
 * The secret's declared scopes and the newest reading among `records` (newest first); null
 * when the secret declares none. A reading names what the issuer answered, never a value.
 */
export function scopeStatus(
  declared: string[] | undefined,
  records: readonly AuditRecord[],
): ScopeStatus | null {
  if (declared === undefined) return null;
  const found = records.find(
    (r) => SCOPE_READINGS.has(r.event) && typeof r.detail?.actualScopes === 'string',
  );
  if (!found) return { declared, reading: null };
  const drift = found.event === 'token.scope-drift';
  const versionId = found.versions?.current ?? found.versions?.pending;
  return {
    declared,
    reading: {
      actual: String(found.detail?.actualScopes),
      at: found.at,
      ...(versionId && { versionId }),
      by: found.step ?? 'the sweep',
      drift,
      ...(drift && { extra: String(found.detail?.extraScopes ?? '') }),
      refused: drift && found.step !== undefined,
    },
  };
}
