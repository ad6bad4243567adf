// How a lambda:<fn> issuer identifies a version's token: by the contract (a keyId, or the
// tokenField a mint reply names), never by what the value looks like.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { LambdaInvoker } from '#adapters/lambda-invoker';
import { ISSUER_CONTRACT, TOKEN_FIELD_KEY } from '#domain/kinds/custom/contract';
import { customIssuer } from '#domain/kinds/custom/issuer';

const lambdaMock = mockClient(LambdaClient);
// The class's send is patched for every instance: unpatch it for the next file in this worker.
afterAll(() => {
  lambdaMock.restore();
});
const CLIENT_ID = 'Xk7pQ2mN9vR4tL8wZ3bY6cH1';
const ctx = {
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/oauth-AbCdEf',
  secretName: 'acme/oauth',
  versionId: '11111111-2222-3333-4444-555555555555',
};
const answer = (body: object) => ({
  StatusCode: 200,
  Payload: Buffer.from(JSON.stringify({ contract: ISSUER_CONTRACT, ok: true, ...body })) as never,
});
const issuer = () =>
  customIssuer({
    invoker: new LambdaInvoker(new LambdaClient({ region: 'us-east-1' })),
    functionName: 'acme-issuer',
  });

beforeEach(() => lambdaMock.reset());

describe('lambda:<fn> issuer: which token a value holds', () => {
  it('records the token field a mint reply names, and tells tokens apart by it alone', async () => {
    // Prepare
    lambdaMock
      .on(InvokeCommand)
      .resolves(answer({ fields: { token: 'saas_live_new_0001' }, tokenField: 'token' }));
    const current = JSON.stringify({ clientId: CLIENT_ID, token: 'saas_live_old_0000' });

    // Act
    const next = await issuer().mint({ ...ctx, current });

    // Assess
    const value = JSON.parse(next);
    expect(value).toMatchObject({ clientId: CLIENT_ID, [TOKEN_FIELD_KEY]: 'token' });
    const edited = JSON.stringify({ ...value, notes: 'edited in the console' });
    const rotated = JSON.stringify({ ...value, token: 'saas_live_new_0002' });
    expect(issuer().tokenOf?.(edited)?.id).toBe(issuer().tokenOf?.(next)?.id);
    expect(issuer().tokenOf?.(rotated)?.id).not.toBe(issuer().tokenOf?.(next)?.id);
    expect(JSON.stringify(issuer().tokenOf?.(next))).not.toContain('saas_live_new_0001');
  });

  it('cannot tell, rather than guess, for a value naming neither a keyId nor a token field', () => {
    // A constant client ID of 24 letters and digits is not a token by its looks.
    expect(issuer().tokenOf?.(JSON.stringify({ clientId: CLIENT_ID, token: 'x' }))).toBeUndefined();
  });

  it('fails the mint when tokenField names no string field of the reply', async () => {
    // Prepare
    lambdaMock
      .on(InvokeCommand)
      .resolves(answer({ fields: { token: 'saas_live_new_0001' }, tokenField: 'secret' }));

    // Act
    const minted = issuer().mint({ ...ctx, current: JSON.stringify({ token: 'old' }) });

    // Assess
    await expect(minted).rejects.toMatchObject({ reason: 'issuer-response' });
    await expect(minted).rejects.toThrow(
      /"tokenField" is "secret", which names no non-empty string/,
    );
  });
});
