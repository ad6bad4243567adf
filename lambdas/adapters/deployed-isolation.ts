// The token index and fingerprint key of a deployed function (the sweep, the revoke functions, the
// rotation),
// from its environment (FINGERPRINT_KEY_SECRET_ARN, ENVIRONMENT_ORDER): none when the stack gave
// it no key secret.
// The key is read once per container and what was indexed is remembered per container
// (#domain/isolation).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as ENV from '#commons/env-names';
import { logger } from '#commons/logger';
import {
  type IsolationDeps,
  newIndexMemory,
  parseEnvironmentOrder,
  revokedTokens,
} from '#domain/isolation/index';
import { fingerprintKeySource } from '#domain/isolation/key';
import type { RevokedTokens } from '#domain/isolation/ports';
import { type SecretStore, systemClock } from '#domain/ports';
import type { RotationDeps } from '#domain/rotation/index';
import { DynamoTokenIndex } from './dynamodb-token-index.ts';
import type { SecretsManagerStore } from './secrets-manager-store.ts';

/** Per container: what it indexed, per secret, across invocations. */
const memory = newIndexMemory();
let keySource: ReturnType<typeof fingerprintKeySource> | undefined;

export function deployedIsolation(
  env: NodeJS.ProcessEnv,
  store: SecretStore,
  dynamo: DynamoDBDocumentClient,
  tableName: string,
): IsolationDeps | undefined {
  const keyArn = env[ENV.FINGERPRINT_KEY_SECRET_ARN]?.trim();
  if (!keyArn) return undefined;
  keySource ??= fingerprintKeySource(() => store.getValue(keyArn));
  return {
    index: new DynamoTokenIndex(dynamo, tableName),
    key: keySource,
    keySecret: { arn: keyArn, name: 'token-rotation fingerprint key' },
    environmentOrder: parseEnvironmentOrder(env[ENV.ENVIRONMENT_ORDER]),
    memory,
  };
}

/** The emergency revoke's side of the index (#domain/isolation/revoked), when the stack has one. */
export function deployedRevokedTokens(
  env: NodeJS.ProcessEnv,
  store: SecretStore,
  dynamo: DynamoDBDocumentClient,
  tableName: string,
): RevokedTokens | undefined {
  const keyArn = env[ENV.FINGERPRINT_KEY_SECRET_ARN]?.trim();
  if (!keyArn) return undefined;
  keySource ??= fingerprintKeySource(() => store.getValue(keyArn));
  return revokedTokens({
    index: new DynamoTokenIndex(dynamo, tableName),
    key: keySource,
    clock: systemClock,
    log: { warn: (message, extra) => logger.warn(message, { ...extra }) },
  });
}

/** The rotation's side of the index (#domain/rotation/minted-index), when the stack has one. */
export function deployedMintIndex(
  env: NodeJS.ProcessEnv,
  store: SecretsManagerStore,
): RotationDeps['tokenIndex'] {
  const keyArn = env[ENV.FINGERPRINT_KEY_SECRET_ARN]?.trim();
  if (!keyArn) return undefined;
  keySource ??= fingerprintKeySource(() => store.getValue(keyArn));
  return {
    keySecretArn: keyArn,
    key: keySource,
    currentValues: (ids) => store.getCurrentValues(ids),
  };
}
