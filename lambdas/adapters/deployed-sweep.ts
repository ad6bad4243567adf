// The sweep's dependencies in a deployed function, built from its environment: shared by the
// sweep (which adds its cursor and revoke requester) and the tag-event handler, which plans one
// secret at a time with the same catalog, issuers, audit trail, alerter, pacer and managed set.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { secretsManagerClient } from '#commons/clients';
import type { Config } from '#commons/config';
import { logger } from '#commons/logger';
import { createPacer } from '#domain/pacer';
import { systemClock } from '#domain/ports';
import type { SweepDeps } from '#domain/sweep/index';
import { deployedAuditAndAlerts } from './deployed-audit-and-alerts.ts';
import { deployedIsolation } from './deployed-isolation.ts';
import { DynamoManagedSet } from './dynamodb-managed-set.ts';
import { DynamoTokenUses } from './dynamodb-token-uses.ts';
import { deployedIssuerFor } from './issuer-clients.ts';
import { SecretsManagerCatalog } from './secrets-manager-catalog.ts';
import { SecretsManagerStore } from './secrets-manager-store.ts';

export function deployedSweepDeps(
  config: Config,
  dynamo: DynamoDBDocumentClient,
): Omit<SweepDeps, 'cursor'> {
  const secretsManager = secretsManagerClient();
  const store = new SecretsManagerStore(secretsManager);
  const isolation = deployedIsolation(process.env, store, dynamo, config.auditTableName);
  return {
    catalog: new SecretsManagerCatalog(secretsManager),
    store,
    ...deployedAuditAndAlerts(config, dynamo),
    // The sweep asks whether previous `random` tokens are still presented (consumers' verifiers).
    issuerFor: deployedIssuerFor(process.env, {
      tokenUses: new DynamoTokenUses(dynamo, config.auditTableName),
    }),
    clock: systemClock,
    pace: createPacer(),
    managed: new DynamoManagedSet(dynamo, config.auditTableName),
    log: { warn: (message, extra) => logger.warn(message, extra ?? {}) },
    ...(isolation && { isolation }),
  };
}
