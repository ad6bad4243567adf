// The local IAM's user tags as the real SDK client sees them: CreateUser with Tags, TagUser,
// UntagUser and ListUserTags, keys unique regardless of case, as IAM keeps them for users.
import {
  CreateUserCommand,
  IAMClient,
  ListUserTagsCommand,
  TagUserCommand,
  UntagUserCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';

let aws: LocalAws;
let iam: IAMClient;
let user = 0;

beforeAll(async () => {
  aws = await startLocalAws({ clock: '2025-03-01T10:00:00Z' });
  iam = new IAMClient({ ...aws.clientConfig, maxAttempts: 1 });
});
afterAll(async () => {
  iam.destroy();
  await aws.stop();
});

const BINDING = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/deployer-AbC123';
const tagsOf = async (userName: string) =>
  (await iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags;

describe('local IAM user tags', () => {
  it('lists the tags a user was created with', async () => {
    // Prepare
    const userName = `tagged-${++user}`;

    // Act
    await iam.send(
      new CreateUserCommand({
        UserName: userName,
        Path: '/token-rotation/',
        Tags: [
          { Key: 'token-rotation:secret', Value: BINDING },
          { Key: 'team', Value: 'platform' },
        ],
      }),
    );

    // Assess
    expect(await tagsOf(userName)).toEqual([
      { Key: 'token-rotation:secret', Value: BINDING },
      { Key: 'team', Value: 'platform' },
    ]);
    expect(aws.iam.tagsOf(userName)).toEqual({
      'token-rotation:secret': BINDING,
      team: 'platform',
    });
  });

  it('adds tags, replaces a tag whose key differs only in case, and removes tags', async () => {
    // Prepare
    const userName = `tagged-${++user}`;
    await iam.send(new CreateUserCommand({ UserName: userName }));

    // Act
    await iam.send(
      new TagUserCommand({ UserName: userName, Tags: [{ Key: 'Team', Value: 'platform' }] }),
    );
    await iam.send(
      new TagUserCommand({
        UserName: userName,
        Tags: [
          { Key: 'team', Value: 'security' },
          { Key: 'token-rotation:secret', Value: BINDING },
        ],
      }),
    );
    const tagged = await tagsOf(userName);
    await iam.send(new UntagUserCommand({ UserName: userName, TagKeys: ['TEAM'] }));

    // Assess
    expect(tagged).toEqual([
      { Key: 'team', Value: 'security' },
      { Key: 'token-rotation:secret', Value: BINDING },
    ]);
    expect(await tagsOf(userName)).toEqual([{ Key: 'token-rotation:secret', Value: BINDING }]);
  });

  it('lists no tags for an untagged user', async () => {
    // Prepare
    const userName = `tagged-${++user}`;
    aws.iam.createUser(userName, '/token-rotation/');

    // Act
    const tags = await tagsOf(userName);

    // Assess
    expect(tags ?? []).toEqual([]);
  });

  it('fails to list the tags of a user that does not exist', async () => {
    // Act
    const listing = tagsOf('nobody-here');

    // Assess
    await expect(listing).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('fails to tag with a value outside IAM’s tag pattern, or past 50 tags', async () => {
    // Prepare
    const userName = `tagged-${++user}`;
    aws.iam.createUser(userName);
    const many = Array.from({ length: 51 }, (_, n) => ({ Key: `k${n}`, Value: 'v' }));

    // Act
    const [badValue, tooMany] = await Promise.allSettled([
      iam.send(
        new TagUserCommand({
          UserName: userName,
          Tags: [{ Key: 'note', Value: 'no; semicolons' }],
        }),
      ),
      iam.send(new TagUserCommand({ UserName: userName, Tags: many })),
    ]);

    // Assess
    expect(badValue).toMatchObject({ status: 'rejected', reason: { name: 'ValidationError' } });
    expect(tooMany).toMatchObject({
      status: 'rejected',
      reason: { name: 'LimitExceededException' },
    });
    expect(aws.iam.tagsOf(userName)).toEqual({});
  });
});
