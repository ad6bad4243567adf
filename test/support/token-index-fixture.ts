// Stand-in for the token index WRITER (items 1-3 of issue 14, built elsewhere): the fingerprint
// key secret and index items, written exactly as the contract says (#domain/keyed-fingerprint,
// #adapters/audit-table: pk = FP#<keyed fingerprint>, sk = <secret ARN>#<version ID>, the
// IndexedToken fields as attributes). At merge, tests may switch to the writer; the scanner reads
// only this schema.
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE, fingerprintPk, fingerprintSk } from '#adapters/audit-table';
import { type IndexedToken, keyedFingerprint } from '#domain/keyed-fingerprint';
import type { InstalledSuite } from '#local-aws/suite';

/**
 * Creates the stack's fingerprint key secret (64 random characters, as the stack generates it)
 * and publishes it as the stack output FingerprintKeySecretArn. Returns the key.
 */
export async function createFingerprintKey(
  suite: Pick<InstalledSuite, 'secretsManager' | 'cloudFormation' | 'stackName'>,
  secretsManager: SecretsManagerClient = suite.secretsManager,
): Promise<string> {
  const key = randomBytes(48).toString('base64url');
  const out = await secretsManager.send(
    new CreateSecretCommand({ Name: `${suite.stackName}-fingerprint-key`, SecretString: key }),
  );
  suite.cloudFormation.putStack(suite.stackName, { FingerprintKeySecretArn: out.ARN! });
  return key;
}

/** Indexes `token` as held by one secret version, as the writer would; returns the record. */
export async function plantIndexedToken(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  key: string,
  token: string,
  record: Omit<IndexedToken, 'fingerprint' | 'firstSeen' | 'lastSeen'> &
    Partial<Pick<IndexedToken, 'firstSeen' | 'lastSeen'>>,
): Promise<IndexedToken> {
  const now = new Date().toISOString();
  const item: IndexedToken = {
    fingerprint: keyedFingerprint(key, token),
    firstSeen: now,
    lastSeen: now,
    ...record,
  };
  await dynamo.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        [AUDIT_TABLE.partitionKey]: fingerprintPk(item.fingerprint),
        [AUDIT_TABLE.sortKey]: fingerprintSk(item.secretArn, item.versionId),
        ...item,
      },
    }),
  );
  return item;
}
