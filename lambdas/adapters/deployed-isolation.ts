// The token index and fingerprint key of a deployed function, from its environment
// (FINGERPRINT_KEY_SECRET_ARN, ENVIRONMENT_ORDER): none when the stack gave it no key secret.
// The key is read once per container and what was indexed is remembered per container
// (#domain/isolation).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as ENV from '#commons/env-names';
import { type IsolationDeps, newIndexMemory, parseEnvironmentOrder } from '#domain/isolation/index';
import { fingerprintKeySource } from '#domain/isolation/key';
import type { SecretStore } from '#domain/ports';
import { DynamoTokenIndex } from './dynamodb-token-index.ts';

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
