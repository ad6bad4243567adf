// scrub, describeError and secretParts: what leaves an invocation as error text carries no
// secret material, in every shape API keys come in, while names, ARNs and IDs stay readable.
import { describe, expect, it } from 'vitest';
import { describeError, scrub, secretParts } from '#domain/errors';

// Canaries in the shapes vendors use. None mixes upper case, lower case and digits in 32+
// characters, the only shape the scrubber used to recognise.
const HEX_40 = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b';
const HEX_32 = 'c4ca4238a0b923820dcc509a6f75849b';
const BASE64URL = 'q1Zx-7Yp_0aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3';
const SLACK = 'xoxb-123456789012-1234567890123-k3l9x8v2q0w4e6r7t1y5u9i3';
const SHORT_FIELD = 'pw-9z7q';

describe('secretParts', () => {
  it('yields the whole value and every string leaf of 6+ characters, however deeply nested', () => {
    // Prepare
    const value = JSON.stringify({
      apiKey: HEX_40,
      nested: { list: [HEX_32, { deep: SHORT_FIELD }] },
      region: 'eu',
      port: 443,
    });

    // Act
    const parts = secretParts(value);

    // Assess
    expect(parts).toEqual(expect.arrayContaining([value, HEX_40, HEX_32, SHORT_FIELD]));
    expect(parts).not.toContain('eu');
  });

  it('yields a leaf as it appears escaped inside JSON text too', () => {
    // Prepare
    const leaf = 'quote"and\\slash';
    const value = JSON.stringify({ password: leaf });

    // Act
    const parts = secretParts(value);

    // Assess
    expect(parts).toContain(leaf);
    expect(parts).toContain('quote\\"and\\\\slash');
  });

  it('yields just the value when it is not JSON', () => {
    // Act / Assess
    expect(secretParts('not json {')).toEqual(['not json {']);
  });
});

describe('scrub', () => {
  it.each([
    ['a 40-character lowercase hex key', HEX_40],
    ['a 32-character hex key', HEX_32],
    ['a base64 key', 'dGhpcyBpcyBhIHNlY3JldCBrZXkgMTIz+/w=='],
  ])('redacts %s it was never told about', (_what, canary) => {
    // Act
    const out = scrub(`issuer said: key ${canary} is not valid`);

    // Assess
    expect(out).not.toContain(canary);
    expect(out).toContain('[redacted]');
  });

  it('redacts every long segment of a dash- or underscore-split token it was never told about', () => {
    // Prepare
    const bodies = ['k3l9x8v2q0w4e6r7t1y5u9i3', '0aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3'];

    // Act
    const out = scrub(`bad token ${SLACK} and ${BASE64URL}`);

    // Assess
    for (const body of bodies) expect(out).not.toContain(body);
  });

  it('redacts values it was told about, as a whole or as one JSON field', () => {
    // Prepare
    const value = JSON.stringify({ apiKey: HEX_40, password: SHORT_FIELD, token: BASE64URL });

    // Act
    const out = scrub(
      `fields ${SHORT_FIELD}, ${BASE64URL} and the value ${value}`,
      secretParts(value),
    );

    // Assess
    for (const canary of [SHORT_FIELD, BASE64URL, HEX_40, 'q1Zx'])
      expect(out).not.toContain(canary);
  });

  it('redacts a known value shorter than 4 characters where it stands as a word', () => {
    // Act
    const out = scrub('cannot use k9x: refused by k9xapi', ['k9x']);

    // Assess
    expect(out).toBe('cannot use [redacted]: refused by k9xapi');
  });

  it('keeps access key IDs, version IDs, account IDs, ARNs and names readable', () => {
    // Prepare
    const message =
      'access key AKIAIOSFODNN7EXAMPLE of arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/acme/api-key-AbC123 version 3f2b8c1e-9d4a-4b7e-8f21-0a1b2c3d4e5f (ASIAQWERTYUIOPASDF12) at 2030-01-01T00:00:00.000Z';

    // Act
    const out = scrub(message);

    // Assess
    expect(out).toBe(message);
  });
});

describe('scrub, given values that share a prefix', () => {
  // Not credential-shaped, so only the known values keep them out. The longer value starts with
  // the whole shorter one: scrubbing the shorter first would leave the longer one's tail behind.
  const SHORTER = 'hunter-pass word';
  const LONGER = `${SHORTER}/and its secret tail`;

  it.each([
    ['shorter first', [SHORTER, LONGER]],
    ['longer first', [LONGER, SHORTER]],
  ])('redacts the longer value whole, the known values given %s', (_order, known) => {
    // Prepare
    const message = `refused ${LONGER}; then ${SHORTER}; as a query ?k=${encodeURIComponent(LONGER)}`;

    // Act
    const out = scrub(message, known);

    // Assess
    expect(out).toBe('refused [redacted]; then [redacted]; as a query ?k=[redacted]');
    expect(out).not.toContain('tail');
  });
});

describe('describeError', () => {
  it('never quotes a secret from JSON.parse or an SDK-style error', () => {
    // Prepare
    const value = `{"apiKey": "${HEX_40}", "pin": "${SHORT_FIELD}", "slack": "${SLACK}"`;
    let parseError: unknown;
    try {
      JSON.parse(`{"apiKey": "${HEX_32}" oops`);
    } catch (error) {
      parseError = error;
    }
    const sdkError = Object.assign(
      new Error(`The provided key ${HEX_40} (${SHORT_FIELD}) is invalid`),
      { name: 'ValidationException', $metadata: { httpStatusCode: 400 } },
    );

    // Act
    const described = [
      describeError(parseError, secretParts(value)),
      describeError(sdkError, [HEX_40, SHORT_FIELD]),
    ];

    // Assess
    expect(described[1]).toContain('ValidationException');
    for (const text of described) {
      for (const canary of [HEX_40, HEX_32, SHORT_FIELD]) expect(text).not.toContain(canary);
    }
  });
});

describe('identifiers in a secret value', () => {
  it("keeps an iam-access-key value's user name and access key ID readable: errors must name them", () => {
    // Prepare
    const value = JSON.stringify({
      userName: 'ci-deployer',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });

    // Act
    const parts = secretParts(value);
    const text = scrub('user ci-deployer, key AKIAIOSFODNN7EXAMPLE refused', parts);

    // Assess
    expect(parts).toContain('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    expect(text).toBe('user ci-deployer, key AKIAIOSFODNN7EXAMPLE refused');
  });

  it("redacts a token filed under an identifier's name, nested or in a keyId", () => {
    // Prepare: a careless custom issuer's value
    const value = JSON.stringify({
      keyId: 'xoxb-1234-5678-abcdEFGH',
      meta: { userName: 'hunter2-secret' },
      accessKeyId: 'not-an-access-key-id',
    });

    // Act
    const text = scrub(
      'bad key xoxb-1234-5678-abcdEFGH for hunter2-secret (not-an-access-key-id)',
      secretParts(value),
    );

    // Assess
    expect(text).not.toContain('xoxb-1234-5678-abcdEFGH');
    expect(text).not.toContain('hunter2-secret');
    expect(text).not.toContain('not-an-access-key-id');
  });
});
