// A SaaS issuer function registered on the embedded local AWS's Lambda: mints `saas_live_<n>`
// tokens and keeps what it revoked, so a test asserts what the issuer was really asked to do.
import { ISSUER_CONTRACT, type IssuerRequest } from '#domain/kinds/custom/contract';
import type { LocalAws } from '#local-aws/index';

export interface AcmeIssuer {
  revoked: string[];
  revokeRequests: IssuerRequest[];
  /** While set, revoke is refused with this message (the issuer's API failing). */
  refuseRevoke?: string;
}

/** Registers `acme-issuer` (the kind `lambda:acme-issuer`). */
export function acmeIssuer(local: LocalAws, reply: { tokenField?: string } = {}): AcmeIssuer {
  const issuer: AcmeIssuer = { revoked: [], revokeRequests: [] };
  let minted = 0;
  local.functions.register('acme-issuer', async (request: IssuerRequest) => {
    const ok = { contract: ISSUER_CONTRACT, ok: true as const };
    if (request.action === 'mint') {
      minted++;
      const token = `saas_live_${String(minted).padStart(4, '0')}${'Q'.repeat(36)}`;
      return { ...ok, fields: { token }, ...reply };
    }
    if (request.action === 'revoke') {
      if (issuer.refuseRevoke !== undefined) {
        return {
          contract: ISSUER_CONTRACT,
          ok: false,
          reason: 'unavailable',
          message: issuer.refuseRevoke,
        };
      }
      issuer.revokeRequests.push(request);
      issuer.revoked.push(JSON.parse(request.value ?? '{}').token);
    }
    return ok;
  });
  return issuer;
}
