// EventBridge target for Secrets Manager's RotationFailed and RotationAbandoned events: checks
// the event, tags the logs with the secret, and hands it to the service-events domain.

import { deployedAuditAndAlerts } from '#adapters/deployed-audit-and-alerts';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { dynamoClient, secretsManagerClient } from '#commons/clients';
import { loadConfig } from '#commons/config';
import { type Ignored, ignoredEvent, lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import {
  failedRotationVersion,
  parseServiceEvent,
  recordServiceEvent,
  type ServiceEventDeps,
  type ServiceEventOutcome,
} from '#domain/service-events';

export type SecretsManagerEventsResult = ServiceEventOutcome | Ignored;

/** A handler over `deps`, or over what `deps()` returns on the first event we understand. */
export function createSecretsManagerEventsHandler(
  deps: ServiceEventDeps | (() => ServiceEventDeps),
) {
  return lambdaHandler({
    name: 'secretsmanager-events',
    deps,
    // The audit or the alert failed: the error is thrown, so EventBridge delivers it again.
    failed: 'could not record a Secrets Manager rotation event',
    run: async (event, invocation): Promise<SecretsManagerEventsResult> => {
      const parsed = parseServiceEvent(event);
      if (!parsed.ok) return ignoredEvent('is not a Secrets Manager rotation failure', parsed.why);
      logger.appendKeys({
        secretArn: parsed.event.secretArn,
        eventName: parsed.event.name,
        ...(parsed.event.versionId ? { versionId: parsed.event.versionId } : {}),
      });
      const outcome = await recordServiceEvent(parsed.event, {
        warn: (message, details) => logger.warn(message, details),
        ...invocation.deps(),
      });
      logger.info('Secrets Manager rotation event recorded', { ...outcome });
      return outcome;
    },
  });
}

/** The deployed handler, configured from the environment the CDK construct sets. */
export const handler = createSecretsManagerEventsHandler(() => {
  const config = loadConfig();
  const dynamo = dynamoClient();
  const store = new SecretsManagerStore(secretsManagerClient());
  return {
    ...deployedAuditAndAlerts(config, dynamo),
    // A failed rotation leaves AWSPENDING on its version: that names the incident.
    pendingVersion: async (secretArn) => {
      const { versions } = await store.describe(secretArn);
      return failedRotationVersion(versions);
    },
  };
});
