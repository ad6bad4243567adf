// `scan --revoke`: one emergency revoke per secret that has a live finding, raised through the
// stack's revoke function (the console's path), its reason naming where the token was found.
import { cleanReason, MAX_REASON_LENGTH, requestProblems } from '#domain/revoke/index';
import type { RevokeAnswer } from '../revoke-function.ts';
import { type Finding, whereFound } from './findings.ts';

export interface RaisedRevoke {
  secretArn: string;
  secretName: string;
  /** The reason as the function records it (cleaned as it cleans it). */
  reason: string;
  /** completed, duplicate (already handled), refused, failed, or what the function answered. */
  outcome: string;
  revokeId?: string;
  message?: string;
}

/**
 * The reason for a revoke of a token found at `finding`: names the place, fits the revoke's
 * reason rules (one line, at most MAX_REASON_LENGTH characters; the path is cut, not the rest).
 */
export function revokeReason(finding: Finding): string {
  const lead = 'token found by token-rotation scan at ';
  const where = whereFound(finding);
  const room = MAX_REASON_LENGTH - lead.length;
  const shown = where.length <= room ? where : `…${where.slice(where.length - room + 1)}`;
  const reason = cleanReason(`${lead}${shown}`);
  const problems = requestProblems({ reason });
  if (problems.length > 0)
    throw new Error(`scan: a revoke reason was refused: ${problems.join('; ')}`);
  return reason;
}

/** Raises one revoke per secret with a live indexed finding; says what each answered. */
export async function revokeLive(
  findings: Finding[],
  invoke: (secretArn: string, reason: string) => Promise<RevokeAnswer>,
): Promise<RaisedRevoke[]> {
  const first = new Map<string, Finding>();
  for (const f of findings) {
    if (f.status === 'live' && f.secretArn && !first.has(f.secretArn)) first.set(f.secretArn, f);
  }
  const raised: RaisedRevoke[] = [];
  for (const [secretArn, finding] of first) {
    const reason = revokeReason(finding);
    const answer = await invoke(secretArn, reason);
    const secretName = finding.secretName ?? secretArn;
    raised.push(
      answer.ok
        ? {
            secretArn,
            secretName,
            reason,
            outcome: answer.result.status ?? 'unknown',
            ...(answer.result.revokeId && { revokeId: answer.result.revokeId }),
            ...(answer.result.message && { message: answer.result.message }),
          }
        : {
            secretArn,
            secretName,
            reason,
            outcome: answer.refused ? 'refused' : 'failed',
            message: answer.message,
          },
    );
  }
  return raised;
}
