import { describe, expect, it } from 'vitest';
import { ValidationError } from '#domain/errors';
import { randomIssuer } from '#domain/kinds/random/issuer';
import { issuerFor } from '#domain/kinds/registry';
import { checkToken, fingerprint, mintToken } from '#domain/tokens';

const ctx = {
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/api-key-AbCdEf',
  secretName: 'payments/api-key',
  versionId: '6f1c2d3e-0000-4000-8000-00000000abcd',
};
// Distinctive and not credential-shaped, so only our own care keeps it out of messages.
const CANARY = 'acme_live_canary-value-never-print';

async function failure(run: () => Promise<unknown>): Promise<ValidationError> {
  try {
    await run();
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('expected a failure');
}

describe('the random issuer minting', () => {
  it('mints a bare token from a bare token, keeping its prefix', async () => {
    // Act
    const next = await randomIssuer.mint({ ...ctx, current: 'acme_live_oldtoken' });

    // Assess
    expect(next.startsWith('acme_live_')).toBe(true);
    expect(checkToken(next, 'acme_live_')).toBeUndefined();
  });

  it('replaces only the token field of a JSON value, carrying every other byte over', async () => {
    // Prepare: formatting, key order, a number JSON.parse would round, a nested "token".
    const current = `{
  "owner": "payments-team",
  "token": "acme_live_oldtoken",
  "scopes": ["read", "write"],
  "limits": {"token": "nested, not ours", "rps": 12345678901234567890},
  "notes": "rotated by \\"token-rotation\\""
}
`;

    // Act
    const next = await randomIssuer.mint({ ...ctx, current });
    const token = (JSON.parse(next) as { token: string }).token;

    // Assess
    expect(checkToken(token, 'acme_live_')).toBeUndefined();
    expect(next).toBe(current.replace('"acme_live_oldtoken"', JSON.stringify(token)));
    expect(Object.keys(JSON.parse(next))).toEqual(['owner', 'token', 'scopes', 'limits', 'notes']);
  });

  it('mints from a JSON value whose keys use escapes', async () => {
    // Prepare
    const current = '{"\\u0074oken":"acme_old","k\\"ey":1}';

    // Act
    const next = await randomIssuer.mint({ ...ctx, current });

    // Assess
    const parsed = JSON.parse(next) as Record<string, unknown>;
    expect(checkToken(parsed.token as string, 'acme_')).toBeUndefined();
    expect(parsed['k"ey']).toBe(1);
  });

  it('has nothing to activate', () => {
    // Assess
    expect(randomIssuer.activate).toBeUndefined();
  });

  it('revokes by doing nothing at the issuer', async () => {
    // Act
    const result = await randomIssuer.revoke({ ...ctx, value: 'acme_live_old' });

    // Assess
    expect(result).toBeUndefined();
  });
});

describe('the random issuer refusing malformed values', () => {
  const cases: Array<[string, string, string]> = [
    ['an empty value', '  \n', 'found an empty value'],
    [
      'invalid JSON',
      `{"token": "${CANARY}", `,
      'found text starting with "{" that is not valid JSON (48 characters)',
    ],
    ['a JSON array', `["${CANARY}"]`, 'found a JSON array'],
    [
      'a JSON object without a token',
      `{"owner": "payments", "scopes": ["${CANARY}"]}`,
      'found a JSON object without a string field "token" (fields: owner, scopes)',
    ],
    [
      'a JSON object with no fields',
      '{}',
      'found a JSON object without a string field "token" (no fields)',
    ],
    ['a numeric token', '{"token": 12345}', 'found a JSON object whose field "token" is a number'],
    ['a null token', '{"token": null}', 'found a JSON object whose field "token" is null'],
    [
      'an empty token',
      '{"token": ""}',
      'found a JSON object whose field "token" is an empty string',
    ],
    [
      'two token fields',
      `{"token": "${CANARY}", "token": "${CANARY}x"}`,
      'found a JSON object with 2 fields "token" (exactly one is expected)',
    ],
  ];

  for (const [shape, value, found] of cases) {
    it(`fails to mint from ${shape}, describing it without the value`, async () => {
      // Act
      const error = await failure(() => randomIssuer.mint({ ...ctx, current: value }));

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe(
        `payments/api-key: createSecret: AWSCURRENT value: expected a token or a JSON object with a string field "token", ${found}`,
      );
      expect(error.reason).toBe('malformed-value');
      expect(error.message).not.toContain('canary');
    });
  }

  it('fails to mint when the old token also sits in another field, without quoting it', async () => {
    // Prepare
    const current = JSON.stringify({ token: CANARY, previousToken: CANARY });

    // Act
    const error = await failure(() => randomIssuer.mint({ ...ctx, current }));

    // Assess
    expect(error.message).toContain('found it in another field too');
    expect(error.message).not.toContain('canary');
  });

  it('mints with no prefix from a token whose text before its last "_" is not a label', async () => {
    // Prepare: a secrets.token_urlsafe key, whose "_" is just one of its characters.
    const urlsafe = 'Zx_9abcDEFghiJKLmnoPQRstuVWXyz0123456789_Q';

    // Act
    const minted = await randomIssuer.mint({ ...ctx, current: JSON.stringify({ token: urlsafe }) });

    // Assess
    const token = JSON.parse(minted).token as string;
    expect(token).toMatch(/^[0-9A-Za-z]{49}$/);
    await expect(randomIssuer.verify({ ...ctx, pending: minted })).resolves.toBeUndefined();
  });
});

describe('the random issuer testing the pending value', () => {
  it('accepts a minted bare token and a minted JSON value', async () => {
    // Prepare
    const bare = await randomIssuer.mint({ ...ctx, current: 'acme_live_old' });
    const json = await randomIssuer.mint({ ...ctx, current: '{"token":"acme_old","owner":"x"}' });

    // Act
    const results = await Promise.all([
      randomIssuer.verify({ ...ctx, pending: bare }),
      randomIssuer.verify({ ...ctx, pending: json }),
    ]);

    // Assess
    expect(results).toEqual([undefined, undefined]);
  });

  it('fails a pending token with one character changed, naming the version and not the token', async () => {
    // Prepare
    const minted = mintToken('acme_live_');
    const altered = `${minted.slice(0, 20)}${minted[20] === 'Q' ? 'R' : 'Q'}${minted.slice(21)}`;

    // Act
    const error = await failure(() => randomIssuer.verify({ ...ctx, pending: altered }));

    // Assess
    expect(error.message).toBe(
      `payments/api-key: testSecret: AWSPENDING (version ${ctx.versionId}) token: the checksum does not match: the token was altered or not minted by token-rotation`,
    );
    expect(error.reason).toBe('malformed-token');
    expect(error.message).not.toContain(altered.slice(10, 30));
  });

  it('fails a pending value that is not a token of ours', async () => {
    // Act
    const error = await failure(() => randomIssuer.verify({ ...ctx, pending: CANARY }));

    // Assess
    expect(error.message).toContain('AWSPENDING');
    expect(error.message).toContain('expected only letters and digits after the prefix');
    expect(error.message).not.toContain('canary');
  });

  it('fails a malformed pending value by its shape', async () => {
    // Act
    const error = await failure(() =>
      randomIssuer.verify({ ...ctx, pending: `{"owner":"${CANARY}"}` }),
    );

    // Assess
    expect(error.message).toContain(
      'found a JSON object without a string field "token" (fields: owner)',
    );
    expect(error.message).not.toContain('canary');
  });
});

describe('the random issuer naming tokens', () => {
  it('names a minted token by its fingerprint, bare or in JSON', () => {
    // Prepare
    const token = mintToken('acme_');

    // Act
    const names = [randomIssuer.name(token), randomIssuer.name(JSON.stringify({ a: 1, token }))];

    // Assess
    expect(names).toEqual([fingerprint(token), fingerprint(token)]);
  });

  it('does not fingerprint a token it did not mint, which may be guessable', () => {
    // Act
    const names = [randomIssuer.name('changeme'), randomIssuer.name('{"broken')];

    // Assess
    expect(names).toEqual(['unfingerprinted', 'unfingerprinted']);
  });
});

describe('issuerFor', () => {
  const secret = { arn: ctx.secretArn, name: ctx.secretName };

  it('gives the random issuer when the kind tag is absent or "random"', () => {
    // Act
    const kinds = [issuerFor(undefined, secret).kind, issuerFor('random', secret).kind];

    // Assess
    expect(kinds).toEqual(['random', 'random']);
  });

  it('fails an unknown kind, naming the kinds allowed', () => {
    // Act
    const resolve = () => issuerFor('rnadom', secret);

    // Assess
    expect(resolve).toThrow(ValidationError);
    expect(resolve).toThrow(
      'payments/api-key: policy: tag token-rotation:kind is "rnadom"; expected one of random, iam-access-key, lambda:<function name or ARN>',
    );
  });

  it('fails a kind whose clients the function was not given, saying so', () => {
    // Act
    const resolve = () => issuerFor('iam-access-key', secret);

    // Assess
    expect(resolve).toThrow(
      'kind iam-access-key needs IAM and STS clients, which this function was not configured with',
    );
  });
});

describe('the random issuer and declared scopes', () => {
  it('writes the declared scopes into the field "scopes", replacing it and keeping every other byte', async () => {
    // Prepare
    const current =
      '{\n  "owner": "payments",\n  "scopes": ["admin"],\n  "token": "acme_live_oldtoken"\n}';

    // Act
    const next = await randomIssuer.mint({ ...ctx, current, scopes: ['read', 'write'] });

    // Assess
    const parsed = JSON.parse(next);
    expect(parsed.scopes).toEqual(['read', 'write']);
    expect(
      next.startsWith(
        '{\n  "owner": "payments",\n  "scopes": ["read","write"],\n  "token": "acme_live_',
      ),
    ).toBe(true);
    expect(await randomIssuer.scopesOf!({ ...ctx, value: next })).toEqual(['read', 'write']);
  });

  it('adds the field where the value has none', async () => {
    const next = await randomIssuer.mint({
      ...ctx,
      current: JSON.stringify({ token: 'acme_live_oldtoken' }),
      scopes: ['read'],
    });
    expect(JSON.parse(next).scopes).toEqual(['read']);
  });

  it('refuses a bare token when scopes are declared, without quoting it', async () => {
    const error = await failure(() =>
      randomIssuer.mint({ ...ctx, current: CANARY, scopes: ['read'] }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('a bare token, while token-rotation:scopes declares scopes');
    expect(error.message).not.toContain(CANARY);
  });
});
