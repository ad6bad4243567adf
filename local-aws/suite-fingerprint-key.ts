// The stack's fingerprint key secret (infra/fingerprint-key.ts), as the installed local stack
// creates it: the token index's HMAC key (#domain/keyed-fingerprint).
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

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
