// The local AWS's S3 over its REST protocol, as a client signs and sends it: Object Lock holds a
// locked version against deletes, overwrites and shortened retention until the local clock
// passes its retain-until date, exactly where AWS documents it does, and no longer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { contentMd5, type S3Request, S3RestClient, xmlElements, xmlText } from '#local-aws/s3-rest';

let aws: LocalAws;
let s3: S3RestClient;
const DAY = 86_400_000;

beforeAll(async () => {
  aws = await startLocalAws({ clock: new Date('2026-03-01T12:00:00Z') });
  s3 = new S3RestClient({
    region: aws.region,
    endpoint: aws.endpoint,
    credentials: aws.clientConfig.credentials,
  });
});

afterAll(async () => {
  await aws?.stop();
});

/** The S3 error code a request is refused with, or 'ok'. */
const outcome = (request: S3Request) =>
  s3.send(request).then(
    () => 'ok',
    (error: Error) => error.name,
  );

const lockedBucket = async (bucket: string, mode = 'COMPLIANCE', days = 1) => {
  await s3.send({
    method: 'PUT',
    bucket,
    headers: { 'x-amz-bucket-object-lock-enabled': 'true' },
  });
  const config = `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>${mode}</Mode><Days>${days}</Days></DefaultRetention></Rule></ObjectLockConfiguration>`;
  await s3.send({ method: 'PUT', bucket, query: { 'object-lock': '' }, body: config });
};

const put = async (bucket: string, key: string, body: string, headers = {}) => {
  const out = await s3.send({
    method: 'PUT',
    bucket,
    key,
    body,
    headers: { 'content-md5': contentMd5(body), ...headers },
  });
  return out.headers['x-amz-version-id']!;
};

const read = async (bucket: string, key: string, versionId?: string) =>
  (await s3.send({ method: 'GET', bucket, key, query: { versionId } })).body.toString('utf8');

describe('local S3: buckets', () => {
  it('turns versioning on with Object Lock and refuses to suspend it', async () => {
    // Act
    await lockedBucket('buckets-lock');
    const versioning = await s3.send({
      method: 'GET',
      bucket: 'buckets-lock',
      query: { versioning: '' },
    });
    const lock = await s3.send({
      method: 'GET',
      bucket: 'buckets-lock',
      query: { 'object-lock': '' },
    });
    const suspend = await outcome({
      method: 'PUT',
      bucket: 'buckets-lock',
      query: { versioning: '' },
      body: '<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>',
    });

    // Assess
    expect(xmlText(versioning.body.toString(), 'Status')).toBe('Enabled');
    expect(xmlText(lock.body.toString(), 'ObjectLockEnabled')).toBe('Enabled');
    expect(xmlText(lock.body.toString(), 'Mode')).toBe('COMPLIANCE');
    expect(xmlText(lock.body.toString(), 'Days')).toBe('1');
    expect(suspend).toBe('InvalidBucketState');
  });

  it('keeps a public access block and a default encryption, and says when there is none', async () => {
    // Prepare
    await s3.send({ method: 'PUT', bucket: 'buckets-plain' });
    const block =
      '<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>';
    const before = await outcome({
      method: 'GET',
      bucket: 'buckets-plain',
      query: { publicAccessBlock: '' },
    });
    const noLock = await outcome({
      method: 'GET',
      bucket: 'buckets-plain',
      query: { 'object-lock': '' },
    });

    // Act
    await s3.send({
      method: 'PUT',
      bucket: 'buckets-plain',
      query: { publicAccessBlock: '' },
      body: block,
    });
    await s3.send({
      method: 'PUT',
      bucket: 'buckets-plain',
      query: { encryption: '' },
      body: '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>',
    });
    const after = await s3.send({
      method: 'GET',
      bucket: 'buckets-plain',
      query: { publicAccessBlock: '' },
    });
    const encryption = await s3.send({
      method: 'GET',
      bucket: 'buckets-plain',
      query: { encryption: '' },
    });

    // Assess
    expect(before).toBe('NoSuchPublicAccessBlockConfiguration');
    expect(noLock).toBe('ObjectLockConfigurationNotFoundError');
    expect(xmlText(after.body.toString(), 'RestrictPublicBuckets')).toBe('true');
    expect(xmlText(encryption.body.toString(), 'SSEAlgorithm')).toBe('aws:kms');
  });

  it('lists objects by prefix a page at a time, and every version of them', async () => {
    // Prepare
    await s3.send({ method: 'PUT', bucket: 'buckets-list', query: {} });
    await s3.send({
      method: 'PUT',
      bucket: 'buckets-list',
      query: { versioning: '' },
      body: '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>',
    });
    for (const key of ['a/1', 'a/2', 'a/3', 'b/1']) await put('buckets-list', key, key);
    await put('buckets-list', 'a/2', 'second');

    // Act
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = (
        await s3.send({
          method: 'GET',
          bucket: 'buckets-list',
          query: { 'list-type': '2', prefix: 'a/', 'max-keys': '2', 'continuation-token': token },
        })
      ).body.toString();
      keys.push(...xmlElements(page, 'Key'));
      token = xmlText(page, 'NextContinuationToken');
    } while (token);
    const versions = (
      await s3.send({
        method: 'GET',
        bucket: 'buckets-list',
        query: { versions: '', prefix: 'a/2' },
      })
    ).body.toString();

    // Assess
    expect(keys).toEqual(['a/1', 'a/2', 'a/3']);
    expect(xmlElements(versions, 'Version')).toHaveLength(2);
    expect(xmlElements(versions, 'IsLatest')).toEqual(['true', 'false']);
  });
});

describe('local S3: Object Lock', () => {
  it('fails a locked put without Content-MD5 or a checksum, and a retain-until date in the past', async () => {
    // Prepare
    await lockedBucket('lock-puts');

    // Act
    const noDigest = await outcome({ method: 'PUT', bucket: 'lock-puts', key: 'k', body: 'x' });
    const badDigest = await outcome({
      method: 'PUT',
      bucket: 'lock-puts',
      key: 'k',
      body: 'x',
      headers: { 'content-md5': contentMd5('y') },
    });
    const past = await outcome({
      method: 'PUT',
      bucket: 'lock-puts',
      key: 'k',
      body: 'x',
      headers: {
        'content-md5': contentMd5('x'),
        'x-amz-object-lock-mode': 'COMPLIANCE',
        'x-amz-object-lock-retain-until-date': new Date(
          aws.clock.now().getTime() - 1,
        ).toISOString(),
      },
    });

    // Assess
    expect(noDigest).toBe('InvalidRequest');
    expect(badDigest).toBe('BadDigest');
    expect(past).toBe('InvalidArgument');
  });

  it('holds a COMPLIANCE version against delete, overwrite and shortening until its retain-until date, then lets it go', async () => {
    // Prepare
    await lockedBucket('lock-compliance');
    const until = new Date(aws.clock.now().getTime() + 2 * DAY);
    const first = await put('lock-compliance', 'checkpoint.json', 'original', {
      'x-amz-object-lock-mode': 'COMPLIANCE',
      'x-amz-object-lock-retain-until-date': until.toISOString(),
    });

    // Act: every way to make the original go away, while it is locked
    const deleteVersion = await outcome({
      method: 'DELETE',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
      query: { versionId: first },
      headers: { 'x-amz-bypass-governance-retention': 'true' },
    });
    const shorten = await outcome({
      method: 'PUT',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
      query: { retention: '', versionId: first },
      body: `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>${new Date(until.getTime() - DAY).toISOString()}</RetainUntilDate></Retention>`,
    });
    const toGovernance = await outcome({
      method: 'PUT',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
      query: { retention: '', versionId: first },
      body: `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${until.toISOString()}</RetainUntilDate></Retention>`,
    });
    const second = await put('lock-compliance', 'checkpoint.json', 'forged');
    const marker = await s3.send({
      method: 'DELETE',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
    });
    const latest = await outcome({
      method: 'GET',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
    });
    const original = await read('lock-compliance', 'checkpoint.json', first);
    const retention = (
      await s3.send({
        method: 'GET',
        bucket: 'lock-compliance',
        key: 'checkpoint.json',
        query: { retention: '', versionId: first },
      })
    ).body.toString();

    // Assess
    expect(deleteVersion).toBe('AccessDenied');
    expect(shorten).toBe('AccessDenied');
    expect(toGovernance).toBe('AccessDenied');
    expect(second).not.toBe(first);
    expect(marker.headers['x-amz-delete-marker']).toBe('true');
    expect(latest).toBe('NoSuchKey');
    expect(original).toBe('original');
    expect(xmlText(retention, 'Mode')).toBe('COMPLIANCE');
    expect(xmlText(retention, 'RetainUntilDate')).toBe(until.toISOString());

    // Act: extending is allowed, and once the clock passes the date the version can go
    const extend = await outcome({
      method: 'PUT',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
      query: { retention: '', versionId: first },
      body: `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>${new Date(until.getTime() + DAY).toISOString()}</RetainUntilDate></Retention>`,
    });
    await aws.clock.advance(2 * DAY + 1);
    const stillLocked = await outcome({
      method: 'DELETE',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
      query: { versionId: first },
    });
    await aws.clock.advance(DAY);
    const released = await outcome({
      method: 'DELETE',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
      query: { versionId: first },
    });
    const gone = await outcome({
      method: 'GET',
      bucket: 'lock-compliance',
      key: 'checkpoint.json',
      query: { versionId: first },
    });

    // Assess
    expect(extend).toBe('ok');
    expect(stillLocked).toBe('AccessDenied');
    expect(released).toBe('ok');
    expect(gone).toBe('NoSuchVersion');
  });

  it('holds a GOVERNANCE version unless the caller bypasses governance retention', async () => {
    // Prepare: the bucket's default retention locks a plain put
    await lockedBucket('lock-governance', 'GOVERNANCE', 3);
    const version = await put('lock-governance', 'k', 'v');
    const head = await s3.send({ method: 'HEAD', bucket: 'lock-governance', key: 'k' });

    // Act
    const plain = await outcome({
      method: 'DELETE',
      bucket: 'lock-governance',
      key: 'k',
      query: { versionId: version },
    });
    const bypassed = await outcome({
      method: 'DELETE',
      bucket: 'lock-governance',
      key: 'k',
      query: { versionId: version },
      headers: { 'x-amz-bypass-governance-retention': 'true' },
    });

    // Assess
    expect(head.headers['x-amz-object-lock-mode']).toBe('GOVERNANCE');
    expect(head.headers['x-amz-object-lock-retain-until-date']).toBe(
      new Date(aws.clock.now().getTime() + 3 * DAY).toISOString(),
    );
    expect(plain).toBe('AccessDenied');
    expect(bypassed).toBe('ok');
  });
});
