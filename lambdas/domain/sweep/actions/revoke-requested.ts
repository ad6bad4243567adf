// Revoke tags. A secret carrying token-rotation:revoke belongs to the revoke until it is done, so
// the sweep does nothing else to it. Its tag event starts the revoke; where that event never came
// (no CloudTrail trail) or the revoke stopped part-way, the tag stays, and the sweep hands the
// request to the revoke function (RevokeRequester, queued), once per tag value per sweep. The
// revoke checks that the tag is still there (gone: `ignored`, already done) and its lock makes a
// race with the tag event a `duplicate`, so handing over a tag the event path has in hand is safe.
import { createHash } from 'node:crypto';
import type { SecretDescription } from '../../ports.ts';
import { cleanReason, knownValues } from '../../revoke/index.ts';
import { TAG } from '../../vocabulary.ts';
import type { SweepActionDef } from '../context.ts';

/** An emergency revoke is requested by tag: the revoke function owns the secret until it is done. */
export interface RevokeRequested {
  type: 'revoke-requested';
  reason: string;
}

/**
 * Names one tag request (RevokeRequester): the secret, the tag's value, and the last revoke
 * (token-rotation:last-revoked), which every completed revoke moves on. Hex, 32 characters.
 */
export function tagRevokeRequestId(secret: Pick<SecretDescription, 'arn' | 'tags'>): string {
  return createHash('sha256')
    .update(
      `${secret.arn}\n${secret.tags[TAG.lastRevoked] ?? ''}\n${secret.tags[TAG.revoke] ?? ''}`,
      'utf8',
    )
    .digest('hex')
    .slice(0, 32);
}

export const revokeRequested: SweepActionDef<RevokeRequested> = {
  plan: (s) =>
    s.state === 'revoke-requested' ? [{ type: 'revoke-requested', reason: s.reason }] : [],
  /** Queues the revoke the tag asks for on the revoke function. */
  run: async (c, secret, action) => {
    const requester = c.deps.revokes;
    if (!requester) return;
    const requestId = tagRevokeRequestId(secret);
    if (c.handedOver.has(requestId)) return;
    c.handedOver.add(requestId);
    const reason = cleanReason(
      secret.tags[TAG.revoke] ?? action.reason,
      await knownValues(c.deps.store, secret, c.deps.log),
    );
    await c.audited(
      secret,
      { event: 'revoke.handed-over', detail: { reason, mode: 'reissue', requestId } },
      () => requester.requestRevoke({ secretArn: secret.arn, reason, requestId }),
    );
  },
};
