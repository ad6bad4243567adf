// Test-only rotation function: the deployed handler's wiring (env config, the real adapters and
// the rotation engine) with an issuer whose `verify` rejects the new token while the function's
// ISSUER_OUTAGE variable is set, as a real issuer's API refuses a token it does not accept yet.
// UpdateFunctionConfiguration clearing the variable is the issuer coming back.
import { deployedAuditAndAlerts } from '#adapters/deployed-audit-and-alerts';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { dynamoClient, secretsManagerClient } from '#commons/clients';
import { loadConfig } from '#commons/config';
import { RotationError } from '#domain/errors';
import { type IssuerFor, issuerFor } from '#domain/kinds/registry';
import { systemClock } from '#domain/ports';
import { createRotationHandler } from '#handlers/rotation';

const outageIssuerFor: IssuerFor = (kindTag, secret) => {
  const issuer = issuerFor(kindTag, secret);
  return {
    ...issuer,
    async verify(ctx) {
      const outage = process.env.ISSUER_OUTAGE;
      if (outage) {
        throw new RotationError(
          ctx.secretName,
          'testSecret',
          `expected the issuer to accept the new token (version ${ctx.versionId}), found it refused it: ${outage}`,
          'issuer-rejected',
        );
      }
      await issuer.verify(ctx);
    },
  };
};

export const handler = createRotationHandler(() => {
  const config = loadConfig();
  const dynamo = dynamoClient();
  return {
    store: new SecretsManagerStore(secretsManagerClient()),
    ...deployedAuditAndAlerts(config, dynamo),
    issuerFor: outageIssuerFor,
    clock: systemClock,
  };
});
