// No silent widening (SPEC "Scopes and lifespan ceiling"): the scopes createSecret asks the issuer
// for, testSecret's refusal of a new token broader than its secret declares, and the failure that
// every later attempt of a refused rotation stops at.

import { describeError, RotationError, ValidationError } from '#domain/errors';
import { kindOf } from '#domain/kinds/registry';
import { declaredScopes } from '#domain/policy';
import type { Issuer, SecretDescription } from '#domain/ports';
import { formatScopes, type ScopeDrift, scopeDrift } from '#domain/scopes';
import { SCOPE_REFUSED_LABEL, STAGE, TAG } from '#domain/vocabulary';
import type { RotationDeps, RotationRequest, StepState } from './types.ts';
import { issuerContext } from './values.ts';

/** A new token refused as broader than declared: reportFailure audits and alerts `token.scope-drift`. */
export class ScopeDriftRefused extends RotationError {
  override readonly name = 'ScopeDriftRefused';
  constructor(
    secret: string,
    step: string,
    message: string,
    /** Absent on a later attempt of the refused rotation (it stops before asking the issuer). */
    readonly drift: ScopeDrift | undefined,
    /** Where the actual scopes were read. */
    readonly source: string,
    /** What became of the refused token at its issuer. */
    readonly revoked?: string,
  ) {
    super(secret, step, message, 'scope-drift');
  }
}

/** The secret's declared scopes; an invalid tag fails the step, naming it (nothing is minted). */
export function scopesToMint(secret: SecretDescription, step: string): string[] | undefined {
  const declared = declaredScopes(secret.tags);
  if (declared === undefined || Array.isArray(declared)) return declared;
  throw new ValidationError(secret.name, step, declared.message, 'invalid');
}

/** Every attempt after a refusal stops here, with the refusal's incident (one alert). */
export function refusedBefore(secret: SecretDescription, request: RotationRequest): void {
  if (!secret.versions[request.token]?.includes(SCOPE_REFUSED_LABEL)) return;
  const source = kindOf(secret.tags[TAG.kind])?.capabilities.scopes?.source ?? 'the issuer';
  throw new ScopeDriftRefused(
    secret.name,
    request.step,
    `expected version ${request.token} to hold a token within the declared scopes, found testSecret refused it as broader (staging label ${SCOPE_REFUSED_LABEL}); rotate again once the issuer mints within them`,
    undefined,
    source,
  );
}

/**
 * testSecret, after the issuer verified the new token: its actual scopes against the declared
 * ones ('checked': within them, recorded by the step). A broader token is revoked at its issuer (or the refusal says it was not), its version
 * marked refused and, once revoked, AWSPENDING taken off it; the step then fails with the drift.
 */
export async function refuseBroader(
  secret: SecretDescription,
  issuer: Issuer,
  request: RotationRequest,
  deps: RotationDeps,
  state: StepState,
  pending: string,
): Promise<'checked' | undefined> {
  const declared = scopesToMint(secret, request.step);
  if (declared === undefined) return undefined;
  const capability = kindOf(secret.tags[TAG.kind])?.capabilities.scopes;
  if (!capability || !issuer.scopesOf) {
    throw new ValidationError(
      secret.name,
      request.step,
      `tag ${TAG.scopes} declares scopes, but kind ${issuer.kind} cannot say what a token may do; remove the tag or use a kind that reports scopes`,
      'scopes-unknown',
    );
  }
  const actual = await issuer.scopesOf({
    ...issuerContext(secret, request),
    value: pending,
    scopes: declared,
  });
  if (actual === undefined) {
    throw new RotationError(
      secret.name,
      request.step,
      `expected ${capability.source} to state the new token's scopes (the secret declares ${formatScopes(declared)}), found none stated; not promoted`,
      'scopes-unknown',
    );
  }
  state.detail.declaredScopes = formatScopes(declared);
  state.detail.actualScopes = formatScopes(actual);
  const drift = scopeDrift(declared, actual, capability.matching);
  if (!drift) return 'checked';
  state.detail.extraScopes = formatScopes(drift.extra);

  // Revoke first: a token that could not be revoked keeps AWSPENDING, where the sweep, an
  // emergency revoke and a person find it; the label stops the retries either way.
  let revoked: string;
  let gone = false;
  try {
    await issuer.revoke({ ...issuerContext(secret, request), value: pending });
    gone = !issuer.revokedByUnstaging;
    revoked = issuer.revokedByUnstaging
      ? `version ${request.token} loses AWSPENDING, which revokes a ${issuer.kind} token`
      : `revoked at its issuer (version ${request.token})`;
  } catch (error) {
    revoked = `NOT revoked at its issuer (${describeError(error, state.seen)}); it is still live and AWSPENDING stays on version ${request.token}: revoke it by hand`;
  }
  state.movingStage = true;
  // A kind revoked by unstaging keeps no label on it: a labelled version would still hold it.
  if (!issuer.revokedByUnstaging) {
    await deps.store.moveStage(secret.arn, SCOPE_REFUSED_LABEL, request.token);
  }
  if (gone || issuer.revokedByUnstaging) {
    await deps.store.moveStage(secret.arn, STAGE.pending, undefined, request.token);
  }
  throw new ScopeDriftRefused(
    secret.name,
    request.step,
    `expected the new token to do at most what ${TAG.scopes} declares (${formatScopes(declared)}), found ${capability.source} grant more: ${formatScopes(drift.extra)}; not promoted, AWSCURRENT keeps the old token, the new token ${revoked}`,
    drift,
    capability.source,
    revoked,
  );
}
