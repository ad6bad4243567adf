// Every hash chain in the audit table, and each one verified. Finding them all is the one read
// that is not a Query: a secret deleted long ago is in no index but the table itself, so the
// table is scanned once for its partition keys (keys only, audit records only).
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE, secretPk } from '#adapters/audit-table';
import { type ChainReport, verifyChain } from '#domain/audit-chain';
import type { AuditLog } from '#domain/ports';

const SECRET_PREFIX = secretPk('');

/** The ARN of every secret that has audit records, in the order first seen. */
export async function listChains(
  client: DynamoDBDocumentClient,
  tableName: string,
  onPage?: (page: number, found: number) => void,
): Promise<string[]> {
  const arns = new Set<string>();
  let startKey: Record<string, unknown> | undefined;
  let page = 0;
  do {
    const out = await client.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#pk',
        FilterExpression: 'begins_with(#pk, :prefix)',
        ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey },
        ExpressionAttributeValues: { ':prefix': SECRET_PREFIX },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of out.Items ?? []) {
      const pk = item[AUDIT_TABLE.partitionKey];
      if (typeof pk === 'string') arns.add(pk.slice(SECRET_PREFIX.length));
    }
    startKey = out.LastEvaluatedKey;
    page += 1;
    onPage?.(page, arns.size);
  } while (startKey);
  return [...arns];
}

export interface VerifiedChain {
  /** The name the newest record gives the secret (the ARN's last part when it has none). */
  secretName: string;
  report: ChainReport;
}

/** Reads one secret's whole chain (Query) and verifies it with the domain's verifyChain. */
export async function verifyTrail(log: AuditLog, secretArn: string): Promise<VerifiedChain> {
  const records = await log.history(secretArn);
  const named = records.findLast((record) => typeof record.secretName === 'string');
  return {
    secretName: named?.secretName ?? secretArn.split(':').at(-1) ?? secretArn,
    report: verifyChain(secretArn, records),
  };
}
