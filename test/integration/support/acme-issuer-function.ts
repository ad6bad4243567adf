// A SaaS issuer as a Lambda function (deployed by acme-issuer.ts through the Lambda API): mints
// `saas_live_<n>` tokens and records every revoke it is asked for in its own DynamoDB table
// (ACME_TABLE), so a test reads back what the issuer was really asked to do, wherever it runs.
// While ACME_REFUSE_REVOKE is set, revoke is refused with that message (the issuer's API failing).
// ACME_TOKEN_FIELD set: mint names the field its token is in (the contract's `tokenField`).
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ISSUER_CONTRACT, type IssuerRequest } from '#domain/kinds/custom/contract';

const db = new DynamoDBClient({});

/** The next number of a counter kept in the issuer's table. */
async function next(counter: string): Promise<number> {
  const out = await db.send(
    new UpdateItemCommand({
      TableName: process.env.ACME_TABLE,
      Key: { pk: { S: counter } },
      UpdateExpression: 'ADD n :one',
      ExpressionAttributeValues: { ':one': { N: '1' } },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(out.Attributes?.n?.N);
}

export const handler = async (request: IssuerRequest) => {
  const ok = { contract: ISSUER_CONTRACT, ok: true as const };
  if (request.action === 'mint') {
    const token = `saas_live_${String(await next('minted')).padStart(4, '0')}${'Q'.repeat(36)}`;
    const tokenField = process.env.ACME_TOKEN_FIELD;
    return { ...ok, fields: { token }, ...(tokenField && { tokenField }) };
  }
  if (request.action === 'revoke') {
    const refusal = process.env.ACME_REFUSE_REVOKE;
    if (refusal) {
      return { contract: ISSUER_CONTRACT, ok: false, reason: 'unavailable', message: refusal };
    }
    const n = await next('revokes');
    await db.send(
      new PutItemCommand({
        TableName: process.env.ACME_TABLE,
        Item: {
          pk: { S: `revoke#${String(n).padStart(6, '0')}` },
          request: { S: JSON.stringify(request) },
        },
      }),
    );
  }
  return ok;
};
