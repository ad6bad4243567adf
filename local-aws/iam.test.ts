// The local IAM and STS as the real SDK clients see them: users, the two-key limit, status
// changes, deletion, and GetCallerIdentity authenticated by the signing access key.
import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  PutGroupPolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';

let aws: LocalAws;
let iam: IAMClient;
let user = 0;

beforeAll(async () => {
  aws = await startLocalAws({ clock: '2025-03-01T10:00:00Z' });
  iam = new IAMClient(aws.clientConfig);
});
afterAll(async () => {
  iam.destroy();
  await aws.stop();
});

/** A fresh user, so tests don't share keys. */
async function newUser(path = '/token-rotation/'): Promise<string> {
  const userName = `ci-bot-${++user}`;
  await iam.send(new CreateUserCommand({ UserName: userName, Path: path }));
  return userName;
}

async function createKey(userName: string) {
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
}

async function whoAmI(credentials: { accessKeyId: string; secretAccessKey: string }) {
  const sts = new STSClient({ ...aws.clientConfig, credentials, maxAttempts: 1 });
  try {
    return await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

describe('local IAM', () => {
  it('creates a user under a path and describes it', async () => {
    // Act
    const userName = await newUser('/token-rotation/');
    const { User } = await iam.send(new GetUserCommand({ UserName: userName }));

    // Assess
    expect(User?.Arn).toBe(`arn:aws:iam::123456789012:user/token-rotation/${userName}`);
    expect(User?.Path).toBe('/token-rotation/');
  });

  it('creates access keys that are listed without their secrets', async () => {
    // Prepare
    const userName = await newUser();

    // Act
    const key = await createKey(userName);
    const { AccessKeyMetadata } = await iam.send(new ListAccessKeysCommand({ UserName: userName }));

    // Assess
    expect(key.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(key.secretAccessKey.length).toBe(40);
    expect(AccessKeyMetadata).toEqual([
      expect.objectContaining({
        AccessKeyId: key.accessKeyId,
        Status: 'Active',
        UserName: userName,
      }),
    ]);
    expect(JSON.stringify(AccessKeyMetadata)).not.toContain(key.secretAccessKey);
  });

  it('fails a third access key with LimitExceeded', async () => {
    // Prepare
    const userName = await newUser();
    await createKey(userName);
    await createKey(userName);

    // Act
    const third = createKey(userName);

    // Assess
    await expect(third).rejects.toMatchObject({ name: 'LimitExceededException' });
    expect(aws.iam.keysOf(userName)).toHaveLength(2);
  });

  it('fails to change or delete a key it does not have with NoSuchEntity', async () => {
    // Prepare
    const userName = await newUser();

    // Act
    const update = iam.send(
      new UpdateAccessKeyCommand({
        UserName: userName,
        AccessKeyId: 'AKIANOSUCHKEY0000000',
        Status: 'Inactive',
      }),
    );
    const remove = iam.send(
      new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: 'AKIANOSUCHKEY0000000' }),
    );

    // Assess
    await expect(update).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    await expect(remove).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('fails to list the keys of a user it does not have', async () => {
    // Act
    const list = iam.send(new ListAccessKeysCommand({ UserName: 'nobody' }));

    // Assess
    await expect(list).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });
});

describe('local IAM policies, written through the API', () => {
  it("sets a user's inline, attached and group policies, AWS's AdministratorAccess there from the start", async () => {
    // Prepare
    const userName = await newUser();
    const document = JSON.stringify({
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    });

    // Act
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'read',
        PolicyDocument: document,
      }),
    );
    await iam.send(
      new AttachUserPolicyCommand({
        UserName: userName,
        PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      }),
    );
    const { Policy } = await iam.send(
      new CreatePolicyCommand({ PolicyName: `mine-${userName}`, PolicyDocument: document }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: Policy!.Arn! }));
    const { Group } = await iam.send(new CreateGroupCommand({ GroupName: `g-${userName}` }));
    await iam.send(
      new PutGroupPolicyCommand({
        GroupName: Group!.GroupName!,
        PolicyName: 'all',
        PolicyDocument: document,
      }),
    );
    await iam.send(new AddUserToGroupCommand({ UserName: userName, GroupName: Group!.GroupName! }));

    // Assess
    const inline = await iam.send(
      new GetUserPolicyCommand({ UserName: userName, PolicyName: 'read' }),
    );
    expect(decodeURIComponent(inline.PolicyDocument!)).toBe(document);
    const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([
      'arn:aws:iam::aws:policy/AdministratorAccess',
      `arn:aws:iam::123456789012:policy/mine-${userName}`,
    ]);
    const groups = await iam.send(new ListGroupsForUserCommand({ UserName: userName }));
    expect(groups.Groups?.map((g) => g.GroupName)).toEqual([`g-${userName}`]);
    const groupPolicies = await iam.send(
      new ListGroupPoliciesCommand({ GroupName: `g-${userName}` }),
    );
    expect(groupPolicies.PolicyNames).toEqual(['all']);
  });

  it('fails to attach a policy that does not exist with NoSuchEntity', async () => {
    // Prepare
    const userName = await newUser();

    // Act
    const attach = iam.send(
      new AttachUserPolicyCommand({
        UserName: userName,
        PolicyArn: 'arn:aws:iam::123456789012:policy/none',
      }),
    );

    // Assess
    await expect(attach).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });
});

describe('local STS', () => {
  it('names the user whose active key signed GetCallerIdentity', async () => {
    // Prepare
    const userName = await newUser();
    const key = await createKey(userName);

    // Act
    const identity = await whoAmI(key);

    // Assess
    expect(identity.Arn).toBe(`arn:aws:iam::123456789012:user/token-rotation/${userName}`);
    expect(identity.Account).toBe('123456789012');
  });

  it('refuses an inactive key, and accepts it again once active', async () => {
    // Prepare
    const userName = await newUser();
    const key = await createKey(userName);
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: userName,
        AccessKeyId: key.accessKeyId,
        Status: 'Inactive',
      }),
    );

    // Act
    const inactive = whoAmI(key);
    await expect(inactive).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: userName,
        AccessKeyId: key.accessKeyId,
        Status: 'Active',
      }),
    );
    const active = await whoAmI(key);

    // Assess
    expect(active.Arn).toContain(userName);
  });

  it('refuses a deleted key and one it never issued', async () => {
    // Prepare
    const userName = await newUser();
    const key = await createKey(userName);
    await iam.send(
      new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: key.accessKeyId }),
    );

    // Act
    const deleted = whoAmI(key);
    const unknown = whoAmI({ accessKeyId: 'AKIANEVERISSUED00000', secretAccessKey: 'x' });

    // Assess
    await expect(deleted).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    await expect(unknown).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
  });

  it('refuses a new key until the consistency delay has passed on the local clock', async () => {
    // Prepare
    aws.iam.consistencyDelayMs = 8000;
    const userName = await newUser();
    const key = await createKey(userName);

    try {
      // Act
      const early = whoAmI(key);
      await expect(early).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
      await aws.clock.advance(8000);
      const settled = await whoAmI(key);

      // Assess
      expect(settled.Arn).toContain(userName);
    } finally {
      aws.iam.consistencyDelayMs = 0;
    }
  });

  it("accepts the local AWS's own credentials as its principal", async () => {
    // Act
    const identity = await whoAmI(aws.clientConfig.credentials);

    // Assess
    expect(identity.Arn).toBe('arn:aws:sts::123456789012:assumed-role/local-aws/local');
  });
});
