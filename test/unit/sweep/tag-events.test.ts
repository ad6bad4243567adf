import { describe, expect, it } from 'vitest';
import { causedBySuite, ignoreReason, parseTagEvent, type TagEvent } from '#domain/tag-events';
import { TAG } from '#domain/vocabulary';
import { parseSweepEvent } from '#handlers/sweep';

const ACCOUNT = '111122223333';
const SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:app/key-AbCdEf`;
const REVOKE_ROLE = `arn:aws:iam::${ACCOUNT}:role/TokenRotation-RevokeRole1A2B3C-XYZ`;

/** An EventBridge "AWS API Call via CloudTrail" event shaped like CloudTrail's records. */
function cloudTrail(
  eventName: string,
  requestParameters: Record<string, unknown>,
  over: Record<string, unknown> = {},
) {
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.secretsmanager',
    account: ACCOUNT,
    detail: {
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      userIdentity: {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
        sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/Admin` } },
      },
      requestParameters,
      responseElements: null,
      eventID: 'ct-1',
      ...over,
    },
  };
}

const parsed = (event: unknown): TagEvent => {
  const result = parseTagEvent(event);
  if (!result.ok) throw new Error(result.why);
  return result.event;
};

describe('tag events: what they name', () => {
  it('reads the secret, the principal and the tag keys of a TagResource call', () => {
    // Act
    const event = parsed(
      cloudTrail('TagResource', { secretId: SECRET, tags: [{ key: TAG.lifespan, value: '7d' }] }),
    );

    // Assess
    expect(event).toMatchObject({
      name: 'TagResource',
      secretId: SECRET,
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
      keys: [TAG.lifespan],
    });
  });

  it('reads the new secret of a CreateSecret call from its response', () => {
    // Act
    const event = parsed(
      cloudTrail(
        'CreateSecret',
        { name: 'app/key', tags: [{ key: TAG.lifespan, value: '1d' }] },
        { responseElements: { aRN: SECRET } },
      ),
    );

    // Assess
    expect(event.secretId).toBe(SECRET);
    expect(ignoreReason(event, [])).toBeUndefined();
  });

  it.each([
    ['not an object', 'TagResource'],
    ['another service', { ...cloudTrail('TagResource', { secretId: SECRET }), source: 'aws.s3' }],
    ['another call', cloudTrail('PutSecretValue', { secretId: SECRET })],
    ['no secret', cloudTrail('UntagResource', { tagKeys: [TAG.lifespan] })],
  ])('fails to parse an event with %s', (_why, event) => {
    // Act
    const result = parseTagEvent(event);

    // Assess
    expect(result.ok).toBe(false);
  });
});

describe('tag events: what is ignored', () => {
  it('ignores a call that failed', () => {
    const event = parsed(
      cloudTrail(
        'TagResource',
        { secretId: SECRET, tags: [{ key: TAG.lifespan, value: '7d' }] },
        { errorCode: 'AccessDenied' },
      ),
    );
    expect(ignoreReason(event, [])).toBe('the TagResource call failed (AccessDenied)');
  });

  it("ignores the suite's own role, by its session issuer or its assumed-role ARN", () => {
    // Prepare
    const bySession = parsed(
      cloudTrail(
        'UntagResource',
        { secretId: SECRET, tagKeys: [TAG.lifespan] },
        {
          userIdentity: {
            type: 'AssumedRole',
            arn: `arn:aws:sts::${ACCOUNT}:assumed-role/TokenRotation-RevokeRole1A2B3C-XYZ/fn`,
            sessionContext: { sessionIssuer: { arn: REVOKE_ROLE } },
          },
        },
      ),
    );
    const byArnOnly = { ...bySession, sessionIssuer: undefined } as TagEvent;
    const person = parsed(
      cloudTrail('UntagResource', { secretId: SECRET, tagKeys: [TAG.lifespan] }),
    );

    // Assess
    expect(causedBySuite(bySession, [REVOKE_ROLE])).toBe(true);
    expect(causedBySuite(byArnOnly, [REVOKE_ROLE])).toBe(true);
    expect(causedBySuite(person, [REVOKE_ROLE])).toBe(false);
    expect(ignoreReason(bySession, [REVOKE_ROLE])).toBe('made by the suite itself');
  });

  it('does not mistake a role of the same name in another account for the suite', () => {
    const other = parsed(
      cloudTrail(
        'TagResource',
        { secretId: SECRET, tags: [{ key: TAG.lifespan, value: '7d' }] },
        {
          userIdentity: {
            arn: 'arn:aws:sts::999999999999:assumed-role/TokenRotation-RevokeRole1A2B3C-XYZ/fn',
          },
        },
      ),
    );
    expect(ignoreReason(other, [REVOKE_ROLE])).toBeUndefined();
  });

  it.each([
    [[TAG.revoke], 'about the revoke tag, which the revoke handler owns'],
    [[TAG.lastRevoked], 'no policy tag changed'],
    [['team'], 'no policy tag changed'],
  ])('ignores a tag change of %j', (keys, why) => {
    const event = parsed(
      cloudTrail('TagResource', {
        secretId: SECRET,
        tags: keys.map((key) => ({ key, value: 'x' })),
      }),
    );
    expect(ignoreReason(event, [])).toBe(why);
  });

  it.each([TAG.lifespan, TAG.grace, TAG.kind])('acts on a change of %s', (key) => {
    const event = parsed(cloudTrail('UntagResource', { secretId: SECRET, tagKeys: [key] }));
    expect(ignoreReason(event, [])).toBeUndefined();
  });

  it('ignores a new secret created without the lifespan tag', () => {
    const event = parsed(
      cloudTrail(
        'CreateSecret',
        { name: 'app/key', tags: [{ key: 'team', value: 'x' }] },
        { responseElements: { aRN: SECRET } },
      ),
    );
    expect(ignoreReason(event, [])).toBe('a new secret without the lifespan tag');
  });
});

describe('sweep events', () => {
  it("accepts the scheduler's input, an empty object, or nothing", () => {
    expect(parseSweepEvent({ scheduledAt: '2026-03-02T10:00:00Z' })).toEqual({
      scheduledAt: '2026-03-02T10:00:00Z',
    });
    expect(parseSweepEvent({})).toEqual({});
    expect(parseSweepEvent(undefined)).toEqual({});
  });

  it.each([
    ['a string', 'sweep'],
    ['an array', []],
    ['a bad time', { scheduledAt: 'soon' }],
  ])('fails on %s', (_what, event) => {
    expect(() => parseSweepEvent(event)).toThrow(/expected/);
  });
});
