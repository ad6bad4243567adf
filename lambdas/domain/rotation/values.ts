// What the steps read of a secret: the live and pending values (remembered for redaction), the
// version a staging label is on, the opening staging checks, and the issuer's view of the request.

import { RotationError, rememberSecret } from '#domain/errors';
import type { IssuerContext, SecretDescription, SecretStore } from '#domain/ports';
import { readQuarantineNotice } from '#domain/revoke/index';
import { STAGE } from '#domain/vocabulary';
import type { RotationRequest, StepState } from './types.ts';

/** The live value, remembered for redaction; a secret without one cannot be rotated from. */
export async function readCurrent(
  store: SecretStore,
  secret: SecretDescription,
  request: RotationRequest,
  state: StepState,
  alreadyRead?: string,
): Promise<string> {
  const current = alreadyRead ?? (await store.getValue(secret.arn, { stage: STAGE.current }));
  if (current === undefined) {
    throw new RotationError(
      secret.name,
      request.step,
      'expected AWSCURRENT to hold the live token, found no value',
      'no-value',
    );
  }
  rememberSecret(state.seen, current);
  // Read from the value, not the lock: the lock of a quarantine that stopped part-way, or was
  // taken over, no longer says so, and a notice must never be minted from into a fresh token.
  const notice = readQuarantineNotice(current);
  if (notice) {
    throw new RotationError(
      secret.name,
      request.step,
      `expected AWSCURRENT to hold the live token, found the quarantine notice of revoke ${notice.revokeId ?? '(unknown)'}; only a person restores it, with a revoke in mode reissue`,
      'quarantined',
    );
  }
  return current;
}

export async function readPending(
  store: SecretStore,
  secret: SecretDescription,
  request: RotationRequest,
  state: StepState,
  alreadyRead?: string,
): Promise<string> {
  const pending =
    alreadyRead ??
    (await store.getValue(secret.arn, { versionId: request.token, stage: STAGE.pending }));
  if (pending === undefined) {
    throw new RotationError(
      secret.name,
      request.step,
      `expected version ${request.token} (AWSPENDING) to hold the new token, found no value (createSecret has not put one)`,
      'no-value',
    );
  }
  rememberSecret(state.seen, pending);
  return pending;
}

export function issuerContext(secret: SecretDescription, request: RotationRequest): IssuerContext {
  return { secretArn: secret.arn, secretName: secret.name, versionId: request.token };
}

export function versionWith(
  secret: Pick<SecretDescription, 'versions'>,
  stage: string,
): string | undefined {
  return Object.entries(secret.versions).find(([, stages]) => stages.includes(stage))?.[0];
}

/**
 * AWS's templates' opening checks. 'done' when the version is already AWSCURRENT, which
 * includes the finished state where AWSPENDING was left on the AWSCURRENT version.
 */
export function checkStaging(
  secret: SecretDescription,
  request: RotationRequest,
): 'done' | 'pending' {
  const { step, token } = request;
  if (!secret.rotationEnabled) {
    throw new RotationError(
      secret.name,
      step,
      'expected rotation to be enabled on the secret, found it disabled',
      'rotation-disabled',
    );
  }
  const stages = secret.versions[token];
  if (!stages) {
    throw new RotationError(
      secret.name,
      step,
      `expected version ${token} to be a version of the secret, found no such version`,
      'unknown-version',
    );
  }
  if (stages.includes(STAGE.current)) return 'done';
  if (!stages.includes(STAGE.pending)) {
    const found =
      stages.length > 0 ? `it staged as ${stages.join(', ')}` : 'it has no staging labels';
    throw new RotationError(
      secret.name,
      step,
      `expected version ${token} to be AWSPENDING, found ${found}`,
      'not-pending',
    );
  }
  return 'pending';
}
