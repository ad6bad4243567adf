// Index states a test sets up directly, written exactly as the suite's writer
// (#adapters/dynamodb-token-index) writes them: pk = FP#<keyed fingerprint>, sk = <secret ARN>#<version
// ID>, the IndexedToken fields as attributes. For what the sweep would not index by itself in a
// short test: a token whose secret has since been deleted, a hand-set token on a secret never
// opted in, a revoke the test dates. The key is the stack's own (FingerprintKeySecretArn).
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE, fingerprintPk, fingerprintSk } from '#adapters/audit-table';
import { type IndexedToken, keyedFingerprint } from '#domain/keyed-fingerprint';
import type { InstalledSuite } from '#local-aws/suite';

/** The stack's fingerprint key (the secret behind the output FingerprintKeySecretArn). */
export async function stackFingerprintKey(
  suite: Pick<InstalledSuite, 'secretsManager' | 'fingerprintKeySecretArn'>,
): Promise<string> {
  const out = await suite.secretsManager.send(
    new GetSecretValueCommand({ SecretId: suite.fingerprintKeySecretArn }),
  );
  return out.SecretString!;
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
