// The lambda:<fn> issuer over the real Lambda invoke adapter, with the Lambda client mocked:
// the v1 request it sends, and how it fails on every kind of bad answer without quoting secrets.
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { LambdaInvoker } from '#adapters/lambda-invoker';
import { ISSUER_CONTRACT } from '#domain/kinds/custom/contract';
import { customIssuer } from '#domain/kinds/custom/issuer';
import { createIssuerFor } from '#domain/kinds/registry';

const lambdaMock = mockClient(LambdaClient);
// The class's send is patched for every instance: unpatch it for the next file in this worker.
afterAll(() => {
  lambdaMock.restore();
});

const CANARY = 'saas_live_CanaryToken0123456789abcdefGHIJ';
const NEW_TOKEN = 'saas_live_NewToken9876543210zyxwvuTSRQPO';
const ctx = {
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/api-key-AbCdEf',
  secretName: 'acme/api-key',
  versionId: '11111111-2222-3333-4444-555555555555',
};
const CURRENT = JSON.stringify({ keyId: 'key_old', token: CANARY, owner: 'payments' });
const PENDING = JSON.stringify({ keyId: 'key_new', token: NEW_TOKEN, owner: 'payments' });

const answer = (body: unknown, functionError?: string) => ({
  StatusCode: 200,
  Payload: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) as never,
  ...(functionError && { FunctionError: functionError }),
});
const ok = (extra: object = {}) => answer({ contract: ISSUER_CONTRACT, ok: true, ...extra });

function issuer(timeoutMs = 1000) {
  return customIssuer({
    invoker: new LambdaInvoker(new LambdaClient({ region: 'us-east-1' })),
    functionName: 'acme-issuer',
    timeoutMs,
  });
}

/** The request the function received, parsed. */
const sent = (index = 0) => {
  const payload = lambdaMock.commandCalls(InvokeCommand)[index]?.args[0].input.Payload;
  return JSON.parse(Buffer.from(payload as Uint8Array).toString('utf8'));
};

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: Error & { reason?: string }) => error,
  );

beforeEach(() => {
  lambdaMock.reset();
});

describe('lambda:<fn> issuer: the requests it sends', () => {
  it('mints by sending the v1 request and lays the new fields over the current value', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).resolves(ok({ fields: { keyId: 'key_new', token: NEW_TOKEN } }));

    // Act
    const minted = await issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    expect(JSON.parse(minted)).toEqual({ keyId: 'key_new', token: NEW_TOKEN, owner: 'payments' });
    expect(lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: 'acme-issuer',
      InvocationType: 'RequestResponse',
    });
    expect(sent()).toEqual({
      contract: 'token-rotation.issuer/v1',
      action: 'mint',
      secret: { arn: ctx.secretArn, name: 'acme/api-key' },
      versionId: ctx.versionId,
      current: CURRENT,
    });
  });

  it('sends activate with both values, verify with the pending one, revoke with the old one', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).resolves(ok());

    // Act
    await issuer().activate!({ ...ctx, pending: PENDING, current: CURRENT });
    await issuer().verify({ ...ctx, pending: PENDING });
    await issuer().revoke({ ...ctx, value: CURRENT });

    // Assess
    expect([sent(0).action, sent(0).current, sent(0).pending]).toEqual([
      'activate',
      CURRENT,
      PENDING,
    ]);
    expect([sent(1).action, sent(1).pending, sent(1).current]).toEqual([
      'verify',
      PENDING,
      undefined,
    ]);
    expect([sent(2).action, sent(2).value, sent(2).pending]).toEqual([
      'revoke',
      CURRENT,
      undefined,
    ]);
  });

  it('names a token by its keyId, never by a keyId that looks like a credential', () => {
    // Act
    const named = issuer().name(PENDING);
    const hidden = issuer().name(JSON.stringify({ keyId: 'AbCdEf0123456789GhIjKl0123456789MnOp' }));
    const none = issuer().name('not json');

    // Assess
    expect([named, hidden, none]).toEqual(['key_new', 'unnamed', 'unnamed']);
  });

  it('is what issuerFor gives for a lambda: kind tag, invoking the named function', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).resolves(ok());
    const issuerFor = createIssuerFor({
      invoker: new LambdaInvoker(new LambdaClient({ region: 'us-east-1' })),
    });

    // Act
    const resolved = issuerFor('lambda:acme-issuer:live', {
      arn: ctx.secretArn,
      name: ctx.secretName,
    });
    await resolved.verify({ ...ctx, pending: PENDING });

    // Assess
    expect(resolved.kind).toBe('lambda:acme-issuer:live');
    expect(lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input.FunctionName).toBe(
      'acme-issuer:live',
    );
  });
});

describe('lambda:<fn> issuer: answers it refuses', () => {
  const cases: Array<[string, ReturnType<typeof answer>, string, string]> = [
    [
      'garbage that is not JSON',
      answer(`<html>${CANARY}</html>`),
      'issuer-response',
      'found a response that is not JSON (54 bytes)',
    ],
    [
      'a JSON array',
      answer([CANARY]),
      'issuer-response',
      'found a response that is an array, not a JSON object',
    ],
    [
      'another contract',
      answer({ contract: 'token-rotation.issuer/v2', ok: true }),
      'issuer-response',
      'found a response whose "contract" is "token-rotation.issuer/v2" (expected "token-rotation.issuer/v1")',
    ],
    [
      'no ok',
      answer({ contract: ISSUER_CONTRACT, token: CANARY }),
      'issuer-response',
      'found a response whose "ok" is missing (expected true or false)',
    ],
    [
      'mint without fields',
      ok(),
      'issuer-response',
      'found a mint response whose "fields" is missing',
    ],
    [
      'mint with nested fields',
      ok({ fields: { token: { value: CANARY } } }),
      'issuer-response',
      'found a mint response whose fields token are not strings, numbers, booleans or null',
    ],
    [
      'mint that changes nothing',
      ok({ fields: { token: CANARY } }),
      'issuer-response',
      'found fields that change nothing in the current value',
    ],
    [
      'a refusal',
      answer({
        contract: ISSUER_CONTRACT,
        ok: false,
        reason: 'quota-exceeded',
        message: `no more keys for ${CANARY}`,
      }),
      'issuer-refused',
      'found it refused (quota-exceeded: no more keys for [redacted])',
    ],
    [
      'a thrown error',
      answer(
        { errorType: 'Error', errorMessage: `bad token ${CANARY}`, trace: ['at x'] },
        'Unhandled',
      ),
      'issuer-failed',
      'found it failed (Error: bad token [redacted])',
    ],
    [
      'a function timeout',
      answer(
        { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' },
        'Unhandled',
      ),
      'issuer-timeout',
      'found it failed (Sandbox.Timedout: Task timed out after 3.00 seconds)',
    ],
  ];

  for (const [what, response, reason, found] of cases) {
    it(`fails the step cleanly on ${what}, quoting nothing secret`, async () => {
      // Prepare
      lambdaMock.on(InvokeCommand).resolves(response);

      // Act
      const error = await failure(issuer().mint({ ...ctx, current: CURRENT }));

      // Assess
      expect(error.reason).toBe(reason);
      expect(error.message).toContain(
        'acme/api-key: createSecret: expected issuer function acme-issuer to mint',
      );
      expect(error.message).toContain(found);
      expect(error.message).not.toContain(CANARY);
    });
  }

  it('fails without quoting any one field of the value, in any shape, when the function quotes them', async () => {
    // Prepare: fields no generic pattern would recognise, and a hex key it once missed.
    const fields = {
      apiKey: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b',
      pin: 'pw-9z7q',
      slack: 'xoxb-123456789012-1234567890123-k3l9x8v2q0w4e6r7t1y5u9i3',
    };
    const current = JSON.stringify({
      keyId: 'key_old',
      ...fields,
      nested: { note: 'n0te-secret' },
    });
    lambdaMock.on(InvokeCommand).resolves(
      answer(
        {
          errorType: 'Error',
          errorMessage: `vendor refused ${fields.apiKey}, ${fields.pin}, ${fields.slack}, n0te-secret`,
        },
        'Unhandled',
      ),
    );

    // Act
    const error = await failure(issuer().activate!({ ...ctx, current, pending: PENDING }));

    // Assess
    expect(error.reason).toBe('issuer-failed');
    expect(error.message).toContain('found it failed (Error: vendor refused [redacted]');
    for (const canary of [...Object.values(fields), 'n0te-secret', 'k3l9x8v2q0w4e6r7t1y5u9i3']) {
      expect(error.message).not.toContain(canary);
    }
  });

  it('fails with issuer-timeout when the function does not answer in time', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).callsFake(() => new Promise(() => {}));

    // Act
    const error = await failure(issuer(50).verify({ ...ctx, pending: PENDING }));

    // Assess
    expect(error.reason).toBe('issuer-timeout');
    expect(error.message).toBe(
      'acme/api-key: testSecret: expected issuer function acme-issuer to verify the token, found no answer within 0 seconds',
    );
  });

  it('fails with issuer-unreachable when the function cannot be invoked', async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).rejects(
      new ResourceNotFoundException({
        message: 'Function not found: acme-issuer',
        $metadata: {},
      }),
    );

    // Act
    const error = await failure(issuer().revoke({ ...ctx, value: CURRENT }));

    // Assess
    expect(error.reason).toBe('issuer-unreachable');
    expect(error.message).toContain(
      'acme/api-key: revoke: expected issuer function acme-issuer to revoke the token, found the invoke failed (ResourceNotFoundException: Function not found: acme-issuer)',
    );
  });

  it('refuses a value that is not a JSON object before invoking anything', async () => {
    // Act
    const error = await failure(issuer().mint({ ...ctx, current: CANARY }));

    // Assess
    expect(error.reason).toBe('malformed-value');
    expect(error.message).not.toContain(CANARY);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
