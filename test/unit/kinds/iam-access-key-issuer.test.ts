// The iam-access-key issuer over the real IAM/STS adapter, with the SDK clients mocked: what it
// asks IAM and STS, and what it refuses to do (delete an active key, quote a secret).
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  LimitExceededException,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { IamAccessKeys } from '#adapters/iam-keys';
import { RotationError, ValidationError } from '#domain/errors';
import { BINDING_TAG, iamAccessKeyIssuer } from '#domain/kinds/iam-access-key/issuer';
import type { NewAccessKey } from '#domain/ports';

const iamMock = mockClient(IAMClient);
const stsMock = mockClient(STSClient);
// The class's send is patched for every instance: unpatch it for the next file in this worker.
afterAll(() => {
  iamMock.restore();
  stsMock.restore();
});

const USER = 'ci-bot';
const CURRENT_ID = 'AKIACURRENTKEY000001';
const CANARY = 'CanarySecretKey0123456789abcdefGHIJKLMNOP';
const NEW_SECRET = 'NewSecretKey9876543210zyxwvuTSRQPONMLKJI';
const ctx = {
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/aws-key-AbCdEf',
  secretName: 'ci/aws-key',
  versionId: '11111111-2222-3333-4444-555555555555',
};
const value = (accessKeyId: string, secretAccessKey: string, extra: object = {}) =>
  JSON.stringify({ userName: USER, accessKeyId, secretAccessKey, ...extra });
const CURRENT = value(CURRENT_ID, CANARY, { region: 'eu-west-1' });
const meta = (id: string, status: 'Active' | 'Inactive', created = '2025-01-01T00:00:00Z') => ({
  UserName: USER,
  AccessKeyId: id,
  Status: status,
  CreateDate: new Date(created),
});
const limit = () =>
  new LimitExceededException({
    message: 'Cannot exceed quota for AccessKeysPerUser: 2',
    $metadata: {},
  });
const missing = () =>
  new NoSuchEntityException({ message: 'The Access Key cannot be found.', $metadata: {} });
const refused = () =>
  Object.assign(new Error('The security token included in the request is invalid.'), {
    name: 'InvalidClientTokenId',
  });

let signedWith: NewAccessKey[];
let waits: number[];

function issuer() {
  const keys = new IamAccessKeys(new IAMClient({ region: 'us-east-1' }), (key) => {
    signedWith.push(key);
    return new STSClient({ region: 'us-east-1', credentials: key });
  });
  return iamAccessKeyIssuer({
    keys,
    sleep: async (ms) => {
      waits.push(ms);
    },
    verifyBackoffMs: [1000, 2000, 4000],
  });
}

const calls = (command: unknown) =>
  iamMock.commandCalls(command as never).map((c) => c.args[0].input);

beforeEach(() => {
  iamMock.reset();
  stsMock.reset();
  signedWith = [];
  waits = [];
  iamMock.on(UpdateAccessKeyCommand).resolves({});
  iamMock.on(DeleteAccessKeyCommand).resolves({});
  // The user is bound to the secret under test unless a test says otherwise.
  iamMock
    .on(ListUserTagsCommand)
    .resolves({ Tags: [{ Key: BINDING_TAG, Value: ctx.secretArn }], IsTruncated: false });
});

describe('iam-access-key: mint (createSecret)', () => {
  it('creates a new key, inactive until setSecret, and carries the other fields over', async () => {
    // Prepare
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [meta(CURRENT_ID, 'Active')] });
    iamMock.on(CreateAccessKeyCommand).resolves({
      AccessKey: {
        UserName: USER,
        AccessKeyId: 'AKIANEWKEY0000000002',
        SecretAccessKey: NEW_SECRET,
        Status: 'Active',
      },
    });

    // Act
    const minted = await issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    expect(JSON.parse(minted)).toEqual({
      userName: USER,
      accessKeyId: 'AKIANEWKEY0000000002',
      secretAccessKey: NEW_SECRET,
      region: 'eu-west-1',
    });
    expect(calls(UpdateAccessKeyCommand)).toEqual([
      { UserName: USER, AccessKeyId: 'AKIANEWKEY0000000002', Status: 'Inactive' },
    ]);
    expect(calls(DeleteAccessKeyCommand)).toEqual([]);
  });

  it('deletes an inactive key that is not AWSCURRENT to make room under the two-key limit', async () => {
    // Prepare
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [meta(CURRENT_ID, 'Active'), meta('AKIAORPHANKEY0000003', 'Inactive')],
    });
    iamMock.on(CreateAccessKeyCommand).resolves({
      AccessKey: {
        UserName: USER,
        AccessKeyId: 'AKIANEWKEY0000000002',
        SecretAccessKey: NEW_SECRET,
        Status: 'Active',
      },
    });

    // Act
    await issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    expect(calls(DeleteAccessKeyCommand)).toEqual([
      { UserName: USER, AccessKeyId: 'AKIAORPHANKEY0000003' },
    ]);
    expect(calls(CreateAccessKeyCommand)).toHaveLength(1);
  });

  it('fails when both keys are active, naming them, and deletes nothing', async () => {
    // Prepare
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [meta(CURRENT_ID, 'Active'), meta('AKIAGRACEKEY00000004', 'Active')],
    });

    // Act
    const mint = issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    await expect(mint).rejects.toThrow(RotationError);
    await expect(mint).rejects.toMatchObject({
      reason: 'two-active-keys',
      message: `ci/aws-key: createSecret: expected room for a new access key for IAM user ci-bot (IAM allows two), found ${CURRENT_ID} (AWSCURRENT, active) and AKIAGRACEKEY00000004 (active); no active key is deleted`,
    });
    expect(calls(DeleteAccessKeyCommand)).toEqual([]);
    expect(calls(CreateAccessKeyCommand)).toEqual([]);
  });

  it('fails rather than delete the AWSCURRENT key, even an inactive one', async () => {
    // Prepare
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [meta(CURRENT_ID, 'Inactive'), meta('AKIAOTHERKEY00000005', 'Active')],
    });

    // Act
    const mint = issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    await expect(mint).rejects.toMatchObject({ reason: 'two-active-keys' });
    expect(calls(DeleteAccessKeyCommand)).toEqual([]);
  });

  it('looks again when a key appears between listing and creating', async () => {
    // Prepare
    iamMock
      .on(ListAccessKeysCommand)
      .resolvesOnce({ AccessKeyMetadata: [meta(CURRENT_ID, 'Active')] })
      .resolves({
        AccessKeyMetadata: [meta(CURRENT_ID, 'Active'), meta('AKIARACEDKEY00000006', 'Inactive')],
      });
    iamMock
      .on(CreateAccessKeyCommand)
      .rejectsOnce(limit())
      .resolves({
        AccessKey: {
          UserName: USER,
          AccessKeyId: 'AKIANEWKEY0000000002',
          SecretAccessKey: NEW_SECRET,
          Status: 'Active',
        },
      });

    // Act
    const minted = await issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    expect(JSON.parse(minted).accessKeyId).toBe('AKIANEWKEY0000000002');
    expect(calls(DeleteAccessKeyCommand)).toEqual([
      { UserName: USER, AccessKeyId: 'AKIARACEDKEY00000006' },
    ]);
  });

  it('deletes the new key again when it cannot be made inactive, so no active orphan is left', async () => {
    // Prepare
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [meta(CURRENT_ID, 'Active')] });
    iamMock.on(CreateAccessKeyCommand).resolves({
      AccessKey: {
        UserName: USER,
        AccessKeyId: 'AKIANEWKEY0000000002',
        SecretAccessKey: NEW_SECRET,
        Status: 'Active',
      },
    });
    iamMock.on(UpdateAccessKeyCommand).rejects(new Error('Rate exceeded'));

    // Act
    const mint = issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    await expect(mint).rejects.toThrow('Rate exceeded');
    expect(calls(DeleteAccessKeyCommand)).toEqual([
      { UserName: USER, AccessKeyId: 'AKIANEWKEY0000000002' },
    ]);
  });

  it('fails without quoting the new secret key when an error quotes it after IAM created it', async () => {
    // Prepare: not credential-shaped, so only knowing the new key keeps it out.
    const newSecret = 'new-secret-not-credential-shaped';
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [meta(CURRENT_ID, 'Active')] });
    iamMock.on(CreateAccessKeyCommand).resolves({
      AccessKey: {
        UserName: USER,
        AccessKeyId: 'AKIANEWKEY0000000002',
        SecretAccessKey: newSecret,
        Status: 'Active',
      },
    });
    iamMock.on(UpdateAccessKeyCommand).rejects(new Error(`Signature of ${newSecret} rejected`));

    // Act
    const mint = issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    await expect(mint).rejects.toThrow('Signature of [redacted] rejected');
  });

  it('fails to mint from a malformed value by its shape, never quoting it', async () => {
    // Prepare
    const broken = JSON.stringify({ userName: USER, accessKeyId: CANARY, secretAccessKey: 12 });
    const notJson = `{"secretAccessKey": "${CANARY}"`;

    // Act
    const fromBroken = await issuer()
      .mint({ ...ctx, current: broken })
      .catch((e: Error) => e);
    const fromText = await issuer()
      .mint({ ...ctx, current: notJson })
      .catch((e: Error) => e);

    // Assess
    expect(fromBroken).toMatchObject({ reason: 'malformed-value' });
    expect((fromBroken as Error).message).toBe(
      'ci/aws-key: createSecret: AWSCURRENT value: expected a JSON object with string fields "userName", "accessKeyId" and "secretAccessKey", found a JSON object whose field "accessKeyId" is a string of 41 characters that does not fit (an access key ID is 16 to 128 upper-case letters and digits); field "secretAccessKey" is a number (1 to 128 characters, no spaces)',
    );
    expect((fromText as Error).message).toContain(
      'found text that is not valid JSON (63 characters)',
    );
    expect(`${(fromBroken as Error).message} ${(fromText as Error).message}`).not.toContain(CANARY);
    expect(calls(CreateAccessKeyCommand)).toEqual([]);
  });
});

describe('iam-access-key: the user bound to its secret', () => {
  const SHORT_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/aws-key';
  const OTHER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/other-key-XyZ123';
  const created = {
    AccessKey: {
      UserName: USER,
      AccessKeyId: 'AKIANEWKEY0000000002',
      SecretAccessKey: NEW_SECRET,
      Status: 'Active' as const,
    },
  };
  const tagged = (Tags: Array<{ Key: string; Value: string }>, more = {}) =>
    iamMock.on(ListUserTagsCommand).resolves({ Tags, IsTruncated: false, ...more });

  beforeEach(() => {
    // An inactive orphan: making room would delete it, which a refused mint must not do either.
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [meta(CURRENT_ID, 'Active'), meta('AKIAORPHANKEY0000003', 'Inactive')],
    });
    iamMock.on(CreateAccessKeyCommand).resolves(created);
  });

  it('mints for the user bound by the secret ARN, reading its tags once', async () => {
    // Act
    const minted = await issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    expect(JSON.parse(minted).accessKeyId).toBe('AKIANEWKEY0000000002');
    expect(calls(ListUserTagsCommand)).toEqual([{ UserName: USER }]);
    expect(calls(CreateAccessKeyCommand)).toEqual([{ UserName: USER }]);
  });

  it('mints for a user bound by the ARN without its random suffix, the tag key in any case', async () => {
    // Prepare
    tagged([
      { Key: 'team', Value: 'platform' },
      { Key: 'Token-Rotation:Secret', Value: SHORT_ARN },
    ]);

    // Act
    const minted = await issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    expect(JSON.parse(minted).accessKeyId).toBe('AKIANEWKEY0000000002');
  });

  it('reads every page of the user tags', async () => {
    // Prepare
    iamMock
      .on(ListUserTagsCommand)
      .resolvesOnce({ Tags: [{ Key: 'team', Value: 'platform' }], IsTruncated: true, Marker: 'm1' })
      .resolves({ Tags: [{ Key: BINDING_TAG, Value: ctx.secretArn }], IsTruncated: false });

    // Act
    await issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    expect(calls(ListUserTagsCommand)).toEqual([
      { UserName: USER, Marker: undefined },
      { UserName: USER, Marker: 'm1' },
    ]);
    expect(calls(CreateAccessKeyCommand)).toHaveLength(1);
  });

  it('fails for a user bound to another secret, naming both, and creates or deletes nothing', async () => {
    // Prepare
    tagged([{ Key: BINDING_TAG, Value: OTHER_ARN }]);

    // Act
    const mint = issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    await expect(mint).rejects.toThrow(ValidationError);
    await expect(mint).rejects.toMatchObject({
      reason: 'user-not-bound',
      step: 'createSecret',
      message: `ci/aws-key: createSecret: expected IAM user ci-bot to carry the tag token-rotation:secret naming this secret (${ctx.secretArn} or ${SHORT_ARN}), found token-rotation:secret = ${OTHER_ARN}; no access key was created (a secret may only hold keys of the IAM user bound to it)`,
    });
    expect(calls(ListUserTagsCommand)).toHaveLength(1);
    expect(calls(ListAccessKeysCommand)).toEqual([]);
    expect(calls(CreateAccessKeyCommand)).toEqual([]);
    expect(calls(DeleteAccessKeyCommand)).toEqual([]);
    expect(calls(UpdateAccessKeyCommand)).toEqual([]);
  });

  it('fails for a user with no binding tag', async () => {
    // Prepare
    tagged([{ Key: 'team', Value: 'platform' }]);

    // Act
    const mint = issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    await expect(mint).rejects.toMatchObject({ reason: 'user-not-bound' });
    await expect(mint).rejects.toThrow(
      'found no token-rotation:secret tag on the user; no access key was created',
    );
    expect(calls(CreateAccessKeyCommand)).toEqual([]);
  });

  it('fails for a user bound by the bare secret name, saying to give the ARN', async () => {
    // Prepare
    tagged([{ Key: BINDING_TAG, Value: ctx.secretName }]);

    // Act
    const mint = issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    await expect(mint).rejects.toThrow(
      'found token-rotation:secret = ci/aws-key (a bare name: give the ARN, with or without its 6-character suffix)',
    );
    expect(calls(CreateAccessKeyCommand)).toEqual([]);
  });

  it("fails for a secret whose name ends like a suffix when the tag is another secret's ARN it abbreviates to", async () => {
    // Prepare: `ci/aws-key-AbCdEf` would otherwise claim the user bound to `ci/aws-key`.
    const impostor = {
      ...ctx,
      secretArn: `${ctx.secretArn}-QwErTy`,
      secretName: 'ci/aws-key-AbCdEf',
    };

    // Act
    const mint = issuer().mint({ ...impostor, current: CURRENT });

    // Assess
    await expect(mint).rejects.toThrow(
      `naming this secret (${impostor.secretArn}), found token-rotation:secret = ${ctx.secretArn};`,
    );
    expect(calls(CreateAccessKeyCommand)).toEqual([]);
  });

  it('fails for a user IAM does not have', async () => {
    // Prepare
    iamMock
      .on(ListUserTagsCommand)
      .rejects(new NoSuchEntityException({ message: 'The user cannot be found.', $metadata: {} }));

    // Act
    const mint = issuer().mint({ ...ctx, current: CURRENT });

    // Assess
    await expect(mint).rejects.toThrow('found IAM has no such user; no access key was created');
    expect(calls(CreateAccessKeyCommand)).toEqual([]);
  });
});

describe('iam-access-key: activate (setSecret)', () => {
  it('activates the pending key', async () => {
    // Act
    await issuer().activate!({
      ...ctx,
      pending: value('AKIANEWKEY0000000002', NEW_SECRET),
      current: CURRENT,
    });

    // Assess
    expect(calls(UpdateAccessKeyCommand)).toEqual([
      { UserName: USER, AccessKeyId: 'AKIANEWKEY0000000002', Status: 'Active' },
    ]);
  });

  it('fails when the pending key no longer exists at IAM', async () => {
    // Prepare
    iamMock.on(UpdateAccessKeyCommand).rejects(missing());

    // Act
    const activate = issuer().activate!({
      ...ctx,
      pending: value('AKIANEWKEY0000000002', NEW_SECRET),
      current: CURRENT,
    });

    // Assess
    await expect(activate).rejects.toMatchObject({
      reason: 'key-missing',
      message: expect.stringContaining(
        'expected access key AKIANEWKEY0000000002 of IAM user ci-bot (AWSPENDING',
      ),
    });
  });
});

describe('iam-access-key: verify (testSecret)', () => {
  const pending = value('AKIANEWKEY0000000002', NEW_SECRET);

  it('signs in with the new key itself, waiting with backoff while IAM propagates it', async () => {
    // Prepare
    stsMock.on(GetCallerIdentityCommand).rejectsOnce(refused()).rejectsOnce(refused()).resolves({
      Arn: 'arn:aws:iam::123456789012:user/token-rotation/ci-bot',
      Account: '123456789012',
    });

    // Act
    await issuer().verify({ ...ctx, pending });

    // Assess
    expect(waits).toEqual([1000, 2000]);
    expect(signedWith).toHaveLength(3);
    expect(signedWith.every((key) => key.accessKeyId === 'AKIANEWKEY0000000002')).toBe(true);
    expect(signedWith[0]?.secretAccessKey).toBe(NEW_SECRET);
  });

  it('fails after its bounded attempts, naming the key ID and never the secret key', async () => {
    // Prepare
    stsMock.on(GetCallerIdentityCommand).rejects(refused());

    // Act
    const verify = issuer().verify({ ...ctx, pending });

    // Assess
    await expect(verify).rejects.toMatchObject({
      reason: 'key-refused',
      message:
        'ci/aws-key: testSecret: expected STS GetCallerIdentity with access key AKIANEWKEY0000000002 (AWSPENDING) to succeed, found it refused 4 times over 7 seconds (last: InvalidClientTokenId); the key may be inactive or deleted, or IAM is still propagating it',
    });
    expect(waits).toEqual([1000, 2000, 4000]);
    await expect(verify).rejects.not.toThrow(NEW_SECRET);
  });

  it('fails when the new key signs in as another user', async () => {
    // Prepare
    stsMock
      .on(GetCallerIdentityCommand)
      .resolves({ Arn: 'arn:aws:iam::123456789012:user/ci-bot-other', Account: '123456789012' });

    // Act
    const verify = issuer().verify({ ...ctx, pending });

    // Assess
    await expect(verify).rejects.toMatchObject({
      reason: 'wrong-identity',
      message: expect.stringContaining(
        'to sign in as IAM user ci-bot, found it signs in as arn:aws:iam::123456789012:user/ci-bot-other',
      ),
    });
  });

  it('does not wait on errors that are not refusals of the key', async () => {
    // Prepare
    stsMock
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('socket hang up'), { name: 'NetworkingError' }));

    // Act
    const verify = issuer().verify({ ...ctx, pending });

    // Assess
    await expect(verify).rejects.toThrow('socket hang up');
    expect(waits).toEqual([]);
  });
});

describe('iam-access-key: revoke and deactivate', () => {
  const old = value('AKIAOLDKEY0000000007', CANARY);

  it('deactivates the key, then deletes it, for an emergency or a due deletion', async () => {
    // Act
    await issuer().revoke({ ...ctx, value: old });

    // Assess
    expect(calls(UpdateAccessKeyCommand)).toEqual([
      { UserName: USER, AccessKeyId: 'AKIAOLDKEY0000000007', Status: 'Inactive' },
    ]);
    expect(calls(DeleteAccessKeyCommand)).toEqual([
      { UserName: USER, AccessKeyId: 'AKIAOLDKEY0000000007' },
    ]);
  });

  it('counts a key IAM no longer has, and STS refuses, as revoked', async () => {
    // Prepare
    iamMock.on(UpdateAccessKeyCommand).rejects(missing());
    iamMock.on(DeleteAccessKeyCommand).rejects(missing());
    stsMock.on(GetCallerIdentityCommand).rejects(refused());

    // Act
    const revoke = issuer().revoke({ ...ctx, value: old });

    // Assess
    await expect(revoke).resolves.toBeUndefined();
    expect(signedWith.map((k) => k.accessKeyId)).toEqual(['AKIAOLDKEY0000000007']);
  });

  it('counts a key IAM no longer has as revoked while STS still signs it in as its own user', async () => {
    // Prepare: a deletion IAM is still propagating.
    iamMock.on(UpdateAccessKeyCommand).rejects(missing());
    stsMock.on(GetCallerIdentityCommand).resolves({
      Arn: `arn:aws:iam::123456789012:user/token-rotation/${USER}`,
      Account: '123456789012',
    });

    // Act
    const revoke = issuer().revoke({ ...ctx, value: old });

    // Assess
    await expect(revoke).resolves.toBeUndefined();
  });

  it('fails to retire a key that signs in as another user, and touches it no further', async () => {
    // Prepare: IAM has no such key for the version's user, because it is another user's.
    iamMock.on(UpdateAccessKeyCommand).rejects(missing());
    stsMock.on(GetCallerIdentityCommand).resolves({
      Arn: 'arn:aws:iam::123456789012:user/token-rotation/victim',
      Account: '123456789012',
    });

    // Act
    const revoke = issuer()
      .revoke({ ...ctx, value: old })
      .catch((e: Error) => e);
    const deactivate = issuer().deactivate!({ ...ctx, value: old }).catch((e: Error) => e);

    // Assess
    for (const failure of [await revoke, await deactivate]) {
      expect(failure).toBeInstanceOf(RotationError);
      expect(failure).toMatchObject({
        reason: 'key-of-another-user',
        message: `ci/aws-key: revoke: expected access key AKIAOLDKEY0000000007 (version ${ctx.versionId}) to belong to IAM user ci-bot, found IAM has no such key for that user while the key signs in as arn:aws:iam::123456789012:user/token-rotation/victim; left untouched, as a key of another user is never acted on`,
      });
      expect((failure as Error).message).not.toContain(CANARY);
    }
    expect(calls(UpdateAccessKeyCommand).map((c) => c.UserName)).toEqual([USER, USER]);
    expect(calls(DeleteAccessKeyCommand)).toEqual([]);
  });

  it("refuses to retire a key of a user not bound to the secret: that could be someone else's live key", async () => {
    // Prepare
    iamMock.on(ListUserTagsCommand).resolves({ Tags: [], IsTruncated: false });

    // Act
    const revoke = issuer().revoke({ ...ctx, value: old });
    const deactivate = issuer().deactivate!({ ...ctx, value: old });

    // Assess
    await expect(revoke).rejects.toThrow('the key was left untouched');
    await expect(deactivate).rejects.toThrow('the key was left untouched');
    expect(calls(UpdateAccessKeyCommand)).toEqual([]);
    expect(calls(DeleteAccessKeyCommand)).toEqual([]);
  });

  it('only deactivates after grace, keeping the key for a later deletion', async () => {
    // Act
    await issuer().deactivate!({ ...ctx, value: old });

    // Assess
    expect(calls(UpdateAccessKeyCommand)).toEqual([
      { UserName: USER, AccessKeyId: 'AKIAOLDKEY0000000007', Status: 'Inactive' },
    ]);
    expect(calls(DeleteAccessKeyCommand)).toEqual([]);
  });

  it('names a token by its access key ID, and a malformed value as unnamed', () => {
    // Act
    const named = issuer().name(old);
    const unnamed = issuer().name(`{"secretAccessKey": "${CANARY}"}`);

    // Assess
    expect(named).toBe('AKIAOLDKEY0000000007');
    expect(unnamed).toBe('unnamed');
  });
});
