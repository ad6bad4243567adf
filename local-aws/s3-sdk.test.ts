// The local S3 as the real @aws-sdk/client-s3 sees it: the SDK's own request shapes (its default
// checksums, path-style addressing) and its parsing of every answer, so the emulator is checked
// against the client AWS ships and not only against the project's own REST helper.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '#local-aws/index';

let aws: LocalAws;
let s3: S3Client;
const DAY = 86_400_000;
const Bucket = 'sdk-checkpoints';

beforeAll(async () => {
  aws = await startLocalAws({ clock: new Date('2026-03-01T12:00:00Z') });
  s3 = new S3Client({ ...aws.clientConfig, forcePathStyle: true });
});

afterAll(async () => {
  s3?.destroy();
  await aws?.stop();
});

const refused = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: Error) => error.name,
  );

describe('local S3 through @aws-sdk/client-s3', () => {
  it('configures an Object Lock bucket, its public access block and encryption', async () => {
    // Act
    await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
        },
      }),
    );
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
        },
      }),
    );
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      }),
    );
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket }));
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket }));
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket }));
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket }));

    // Assess
    expect(versioning.Status).toBe('Enabled');
    expect(lock.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
    });
    expect(block.PublicAccessBlockConfiguration?.RestrictPublicBuckets).toBe(true);
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
    ).toBe('AES256');
  });

  it('keeps a COMPLIANCE version through an overwrite, a delete marker and a shortened retention, until the clock passes it', async () => {
    // Prepare
    const Key = 'checkpoints/one.json';
    const until = new Date(aws.clock.now().getTime() + 2 * DAY);
    const first = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key,
        Body: '{"seq":1}',
        ContentType: 'application/json',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: until,
      }),
    );

    // Act
    const second = await s3.send(new PutObjectCommand({ Bucket, Key, Body: '{"seq":"forged"}' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    const latest = await refused(s3.send(new GetObjectCommand({ Bucket, Key })));
    const deleteVersion = await refused(
      s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId: first.VersionId })),
    );
    const shorten = await refused(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket,
          Key,
          VersionId: first.VersionId,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(until.getTime() - DAY) },
        }),
      ),
    );
    const original = await s3.send(
      new GetObjectCommand({ Bucket, Key, VersionId: first.VersionId }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key, VersionId: first.VersionId }));
    const retention = await s3.send(
      new GetObjectRetentionCommand({ Bucket, Key, VersionId: first.VersionId }),
    );
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket, Prefix: 'checkpoints/' }),
    );
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'checkpoints/' }));

    // Assess
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(marker.DeleteMarker).toBe(true);
    expect(latest).toBe('NoSuchKey');
    expect(deleteVersion).toBe('AccessDenied');
    expect(shorten).toBe('AccessDenied');
    expect(await original.Body?.transformToString()).toBe('{"seq":1}');
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ObjectLockRetainUntilDate).toEqual(until);
    expect(retention.Retention).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: until });
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual([second.VersionId, first.VersionId]);
    expect(versions.DeleteMarkers?.map((m) => m.IsLatest)).toEqual([true]);
    expect(listed.KeyCount).toBe(0);

    // Act: past the retain-until date
    await aws.clock.advance(2 * DAY + 1);
    const released = await refused(
      s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId: first.VersionId })),
    );

    // Assess
    expect(released).toBe('ok');
  });
});
