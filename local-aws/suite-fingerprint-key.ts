// The stack's fingerprint key secret (infra/fingerprint-key.ts), as the installed local stack
// creates it: the token index's HMAC key (#domain/keyed-fingerprint).
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTokenIndex } from '#adapters/dynamodb-token-index';
import type { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { fingerprintKeySource } from '#domain/isolation/key';

/** The fingerprint key secret, as the stack generates it at deploy: 64 random characters. */
export async function createFingerprintKey(
  sm: SecretsManagerClient,
  stackName: string,
): Promise<string> {
  const out = await sm.send(
    new CreateSecretCommand({
      Name: `${stackName}-fingerprint-key`,
      // Base64 of 48 CSPRNG bytes: 64 characters, 384 bits.
      SecretString: randomBytes(48).toString('base64'),
    }),
  );
  return out.ARN!;
}

/**
 * The token index and the fingerprint key as each deployed function builds them
 * (#adapters/deployed-isolation): `key()` is one function's own source, read once; `mint()` the
 * rotation's (#domain/rotation/minted-index).
 */
export function localTokenIndex(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  store: SecretsManagerStore,
  keyArn: string,
) {
  const key = () => fingerprintKeySource(() => store.getValue(keyArn));
  return {
    index: new DynamoTokenIndex(dynamo, tableName),
    key,
    mint: () => ({
      keySecretArn: keyArn,
      key: key(),
      currentValues: (ids: string[]) => store.getCurrentValues(ids),
    }),
  };
}
