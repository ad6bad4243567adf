// An in-memory S3 speaking the REST protocol (path-style: `/<bucket>/<key>?<sub-resource>`, XML
// answers): the subset the anchored audit trail needs. Buckets, versioning, Object Lock (default
// retention, COMPLIANCE and GOVERNANCE, per-version retain-until dates), objects and their
// versions, public access blocks and default encryption. Retention is judged on the local AWS's
// movable clock, so a test moves past a retain-until date instead of waiting for it. Every lock
// rule is AWS's documented one, never kinder: what AWS refuses, this refuses with AWS's code.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalClock } from './clock.ts';
import {
  accessDenied,
  type Bucket,
  DeleteMarkerError,
  escapeXml,
  field,
  HEADER_CHECKSUMS,
  listObjectsV2,
  listVersions,
  newVersionId,
  type ObjectVersion,
  type Reply,
  SUB_RESOURCES,
  s3Error,
  tag,
  XMLNS,
  xml,
} from './s3-state.ts';
import { AwsError, type Caller } from './wire.ts';

export class S3Emulator {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: { region: string; clock: LocalClock }) {}

  readonly handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    _caller?: Caller,
  ): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    try {
      const reply = this.call(req, body);
      const headers: Record<string, string> = {
        ...reply.headers,
        'x-amz-request-id': randomBytes(8).toString('hex'),
      };
      const payload = reply.xml
        ? Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${reply.xml}`)
        : (reply.body ?? Buffer.alloc(0));
      if (reply.xml) headers['content-type'] = 'application/xml';
      headers['content-length'] = String(
        req.method === 'HEAD' ? (reply.body?.length ?? 0) : payload.length,
      );
      res.writeHead(reply.status ?? 200, headers);
      res.end(req.method === 'HEAD' ? undefined : payload);
    } catch (error) {
      const aws =
        error instanceof AwsError ? error : new AwsError('InternalError', String(error), 500);
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(aws.type)}</Code><Message>${escapeXml(aws.message)}</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
      res.writeHead(aws.status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(xml),
        ...(error instanceof DeleteMarkerError ? error.headers : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : xml);
    }
  };

  private call(req: IncomingMessage, body: Buffer): Reply {
    const url = new URL(req.url ?? '/', 'http://local');
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const bucketId = decodeURIComponent(bucketName);
    const key = keyParts.length > 0 ? decodeURIComponent(keyParts.join('/')) : '';
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (!bucketId) throw s3Error('NotImplemented', 'ListBuckets is not emulated', 501);
    if (method === 'PUT' && !key && [...q.keys()].length === 0) {
      return this.createBucket(bucketId, header('x-amz-bucket-object-lock-enabled') === 'true');
    }
    const bucket = this.buckets.get(bucketId);
    if (!bucket) {
      throw s3Error('NoSuchBucket', 'The specified bucket does not exist', 404);
    }
    const text = body.toString('utf8');
    if (!key) return this.bucketCall(bucket, method, q, text);
    const versionId = q.get('versionId') ?? undefined;
    if (q.has('retention')) {
      if (method === 'GET') return this.getRetention(bucket, key, versionId);
      if (method === 'PUT') {
        const bypass = header('x-amz-bypass-governance-retention') === 'true';
        return this.putRetention(bucket, key, versionId, text, bypass);
      }
    }
    if (method === 'PUT') return this.putObject(bucket, key, body, header);
    if (method === 'GET' || method === 'HEAD') return this.getObject(bucket, key, versionId);
    if (method === 'DELETE') {
      const bypass = header('x-amz-bypass-governance-retention') === 'true';
      return this.deleteObject(bucket, key, versionId, bypass);
    }
    throw s3Error('NotImplemented', `${method} on an object is not emulated`, 501);
  }

  private bucketCall(bucket: Bucket, method: string, q: URLSearchParams, text: string): Reply {
    const op = `${method} ${[...q.keys()].find((k) => SUB_RESOURCES.has(k)) ?? ''}`;
    switch (op) {
      case 'PUT versioning':
        return this.putVersioning(bucket, field(text, 'Status'));
      case 'GET versioning':
        return xml(
          `<VersioningConfiguration xmlns="${XMLNS}">${tag('Status', bucket.versioning)}</VersioningConfiguration>`,
        );
      case 'PUT object-lock':
        return this.putObjectLock(bucket, text);
      case 'GET object-lock':
        return this.getObjectLock(bucket);
      case 'PUT publicAccessBlock':
        bucket.publicAccessBlock = text;
        return {};
      case 'GET publicAccessBlock':
        if (!bucket.publicAccessBlock) {
          throw s3Error(
            'NoSuchPublicAccessBlockConfiguration',
            'The public access block configuration was not found',
            404,
          );
        }
        return xml(bucket.publicAccessBlock);
      case 'PUT encryption':
        if (!field(text, 'SSEAlgorithm')) {
          throw s3Error('MalformedXML', 'The XML you provided was not well-formed', 400);
        }
        bucket.encryption = text;
        return {};
      case 'GET encryption':
        // Since January 2023 every bucket has SSE-S3 unless configured otherwise.
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html
        return xml(
          bucket.encryption ??
            `<ServerSideEncryptionConfiguration xmlns="${XMLNS}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`,
        );
      case 'GET versions':
        return listVersions(bucket, q);
      case 'GET ':
        if (q.get('list-type') === '2') return listObjectsV2(bucket, q);
        break;
    }
    throw s3Error('NotImplemented', `${op.trim()} on a bucket is not emulated`, 501);
  }

  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html:
  // x-amz-bucket-object-lock-enabled "Specifies whether you want S3 Object Lock to be enabled for
  // the new bucket"; enabling it turns versioning on (object-lock.html: Object Lock works only
  // in versioned buckets, and versioning cannot be suspended afterwards).
  private createBucket(name: string, objectLock: boolean): Reply {
    if (this.buckets.has(name)) {
      throw s3Error(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        409,
      );
    }
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
      throw s3Error('InvalidBucketName', 'The specified bucket is not valid.', 400);
    }
    this.buckets.set(name, {
      name,
      created: this.options.clock.now(),
      objectLockEnabled: objectLock,
      ...(objectLock ? { versioning: 'Enabled' as const } : {}),
      objects: new Map(),
    });
    return { headers: { location: `/${name}` } };
  }

  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html: "you can't suspend
  // versioning for a bucket" with Object Lock enabled.
  private putVersioning(bucket: Bucket, status: string | undefined): Reply {
    if (status !== 'Enabled' && status !== 'Suspended') {
      throw s3Error('MalformedXML', 'The XML you provided was not well-formed', 400);
    }
    if (status === 'Suspended' && bucket.objectLockEnabled) {
      throw s3Error(
        'InvalidBucketState',
        'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
        409,
      );
    }
    bucket.versioning = status;
    return {};
  }

  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html:
  // "DefaultRetention settings require both a mode and a period", Days or Years, never both;
  // Object Lock can be enabled on an existing bucket only when it is versioned.
  private putObjectLock(bucket: Bucket, text: string): Reply {
    if (field(text, 'ObjectLockEnabled') !== 'Enabled') {
      throw s3Error('MalformedXML', 'The XML you provided was not well-formed', 400);
    }
    if (!bucket.objectLockEnabled && bucket.versioning !== 'Enabled') {
      throw s3Error(
        'InvalidBucketState',
        "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        409,
      );
    }
    const mode = field(text, 'Mode');
    const days = field(text, 'Days');
    const years = field(text, 'Years');
    if (text.includes('<DefaultRetention>')) {
      if (
        (mode !== 'COMPLIANCE' && mode !== 'GOVERNANCE') ||
        (days === undefined) === (years === undefined)
      ) {
        throw s3Error('MalformedXML', 'The XML you provided was not well-formed', 400);
      }
      const period = Number(days ?? years);
      if (!Number.isInteger(period) || period < 1) {
        throw s3Error(
          'InvalidArgument',
          'Default retention period must be a positive integer value',
          400,
        );
      }
      bucket.defaultRetention = { mode, ...(days ? { days: period } : { years: period }) };
    } else {
      delete bucket.defaultRetention;
    }
    bucket.objectLockEnabled = true;
    bucket.versioning = 'Enabled';
    return {};
  }

  private getObjectLock(bucket: Bucket): Reply {
    if (!bucket.objectLockEnabled) {
      throw s3Error(
        'ObjectLockConfigurationNotFoundError',
        'Object Lock configuration does not exist for this bucket',
        404,
      );
    }
    const rule = bucket.defaultRetention;
    return xml(
      `<ObjectLockConfiguration xmlns="${XMLNS}"><ObjectLockEnabled>Enabled</ObjectLockEnabled>${
        rule
          ? `<Rule><DefaultRetention>${tag('Mode', rule.mode)}${tag('Days', rule.days)}${tag('Years', rule.years)}</DefaultRetention></Rule>`
          : ''
      }</ObjectLockConfiguration>`,
    );
  }

  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html: "The Content-MD5 or
  // x-amz-sdk-checksum-algorithm header is required for any request to upload an object with a
  // retention period configured using Amazon S3 Object Lock" (explicitly or by the bucket's
  // default); mode and retain-until-date go together; in a versioned bucket a PUT to an existing
  // key adds a version and the locked one stays (object-lock.html).
  private putObject(
    bucket: Bucket,
    key: string,
    body: Buffer,
    header: (name: string) => string | undefined,
  ): Reply {
    const now = this.options.clock.now();
    const mode = header('x-amz-object-lock-mode');
    const until = header('x-amz-object-lock-retain-until-date');
    if ((mode === undefined) !== (until === undefined)) {
      throw s3Error(
        'InvalidArgument',
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
        400,
      );
    }
    let lock: ObjectVersion['lock'];
    if (mode !== undefined && until !== undefined) {
      if (!bucket.objectLockEnabled) {
        throw s3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration', 400);
      }
      if (mode !== 'COMPLIANCE' && mode !== 'GOVERNANCE') {
        throw s3Error('InvalidArgument', 'Unknown wormMode directive.', 400);
      }
      const retainUntil = new Date(until);
      if (Number.isNaN(retainUntil.getTime()) || retainUntil <= now) {
        throw s3Error('InvalidArgument', 'The retain until date must be in the future!', 400);
      }
      lock = { mode, retainUntil };
    } else if (bucket.defaultRetention) {
      const rule = bucket.defaultRetention;
      const retainUntil = new Date(now);
      if (rule.days) retainUntil.setUTCDate(retainUntil.getUTCDate() + rule.days);
      else retainUntil.setUTCFullYear(retainUntil.getUTCFullYear() + (rule.years ?? 0));
      lock = { mode: rule.mode, retainUntil };
    }
    const md5 = header('content-md5');
    const checksum =
      header('x-amz-sdk-checksum-algorithm') ??
      Object.keys(HEADER_CHECKSUMS).find((name) => header(name) !== undefined);
    if (lock && md5 === undefined && checksum === undefined) {
      throw s3Error(
        'InvalidRequest',
        'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
        400,
      );
    }
    if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64')) {
      throw s3Error(
        'BadDigest',
        'The Content-MD5 you specified did not match what we received.',
        400,
      );
    }
    const sha256 = header('x-amz-checksum-sha256');
    if (sha256 !== undefined && sha256 !== createHash('sha256').update(body).digest('base64')) {
      throw s3Error(
        'BadDigest',
        'The SHA256 you specified did not match the calculated checksum.',
        400,
      );
    }
    const version: ObjectVersion = {
      key,
      versionId: bucket.versioning === 'Enabled' ? newVersionId() : 'null',
      deleteMarker: false,
      body,
      contentType: header('content-type') ?? 'binary/octet-stream',
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      lastModified: now,
      ...(lock ? { lock } : {}),
    };
    this.addVersion(bucket, version);
    return {
      headers: {
        etag: version.etag,
        ...(bucket.versioning ? { 'x-amz-version-id': version.versionId } : {}),
      },
    };
  }

  /** A versioned bucket keeps every version; otherwise the `null` version is replaced. */
  private addVersion(bucket: Bucket, version: ObjectVersion): void {
    const versions = bucket.objects.get(version.key) ?? [];
    const kept =
      bucket.versioning === 'Enabled' ? versions : versions.filter((v) => v.versionId !== 'null');
    bucket.objects.set(version.key, [...kept, version]);
  }

  private findVersion(bucket: Bucket, key: string, versionId?: string): ObjectVersion {
    const versions = bucket.objects.get(key) ?? [];
    if (versionId === undefined) {
      const latest = versions.at(-1);
      if (!latest) throw s3Error('NoSuchKey', 'The specified key does not exist.', 404);
      if (latest.deleteMarker) {
        throw new DeleteMarkerError('NoSuchKey', 'The specified key does not exist.', 404, latest);
      }
      return latest;
    }
    const found = versions.find((v) => v.versionId === versionId);
    if (!found) throw s3Error('NoSuchVersion', 'The specified version does not exist.', 404);
    // API_GetObject.html: naming a delete marker's version is 405 Method Not Allowed.
    if (found.deleteMarker) {
      throw new DeleteMarkerError(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        405,
        found,
      );
    }
    return found;
  }

  private getObject(bucket: Bucket, key: string, versionId?: string): Reply {
    const version = this.findVersion(bucket, key, versionId);
    return {
      body: version.body,
      headers: {
        etag: version.etag,
        'content-type': version.contentType,
        'last-modified': version.lastModified.toUTCString(),
        ...(bucket.versioning ? { 'x-amz-version-id': version.versionId } : {}),
        ...(version.lock
          ? {
              'x-amz-object-lock-mode': version.lock.mode,
              'x-amz-object-lock-retain-until-date': version.lock.retainUntil.toISOString(),
            }
          : {}),
      },
    };
  }

  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html ("How deletes work
  // with S3 Object Lock"): a DELETE without a version ID adds a delete marker and the locked
  // version stays; a DELETE of a version under COMPLIANCE retention is refused until its
  // retain-until date, and under GOVERNANCE unless x-amz-bypass-governance-retention is sent
  // (by a caller with s3:BypassGovernanceRetention: IAM is not evaluated here).
  private deleteObject(
    bucket: Bucket,
    key: string,
    versionId: string | undefined,
    bypassGovernance: boolean,
  ): Reply {
    const versions = bucket.objects.get(key) ?? [];
    if (versionId === undefined && bucket.versioning === 'Enabled') {
      const marker: ObjectVersion = {
        key,
        versionId: newVersionId(),
        deleteMarker: true,
        body: Buffer.alloc(0),
        contentType: '',
        etag: '',
        lastModified: this.options.clock.now(),
      };
      this.addVersion(bucket, marker);
      return {
        status: 204,
        headers: { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId },
      };
    }
    const target = versions.find((v) => v.versionId === (versionId ?? 'null'));
    // API_DeleteObject.html: deleting what is not there succeeds.
    if (!target) return { status: 204 };
    if (this.locked(target, bypassGovernance)) throw accessDenied();
    bucket.objects.set(
      key,
      versions.filter((v) => v !== target),
    );
    return {
      status: 204,
      headers: {
        ...(versionId ? { 'x-amz-version-id': versionId } : {}),
        ...(target.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
      },
    };
  }

  private locked(version: ObjectVersion, bypassGovernance: boolean): boolean {
    const lock = version.lock;
    if (!lock || lock.retainUntil <= this.options.clock.now()) return false;
    return lock.mode === 'COMPLIANCE' || !bypassGovernance;
  }

  private getRetention(bucket: Bucket, key: string, versionId?: string): Reply {
    const version = this.findVersion(bucket, key, versionId);
    if (!version.lock) {
      throw s3Error(
        'NoSuchObjectLockConfiguration',
        'The specified object does not have a ObjectLock configuration',
        404,
      );
    }
    return xml(
      `<Retention xmlns="${XMLNS}">${tag('Mode', version.lock.mode)}${tag('RetainUntilDate', version.lock.retainUntil)}</Retention>`,
    );
  }

  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html ("Retention modes"):
  // in COMPLIANCE mode "its retention mode can't be changed, and its retention period can't be
  // shortened"; a GOVERNANCE lock is changed or shortened only with the bypass header. Extending
  // is always allowed.
  private putRetention(
    bucket: Bucket,
    key: string,
    versionId: string | undefined,
    text: string,
    bypassGovernance: boolean,
  ): Reply {
    if (!bucket.objectLockEnabled) {
      throw s3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration', 400);
    }
    const version = this.findVersion(bucket, key, versionId);
    const mode = field(text, 'Mode');
    const retainUntil = new Date(field(text, 'RetainUntilDate') ?? '');
    if ((mode !== 'COMPLIANCE' && mode !== 'GOVERNANCE') || Number.isNaN(retainUntil.getTime())) {
      throw s3Error('MalformedXML', 'The XML you provided was not well-formed', 400);
    }
    if (retainUntil <= this.options.clock.now()) {
      throw s3Error('InvalidArgument', 'The retain until date must be in the future!', 400);
    }
    const current = version.lock;
    const weakens = current && (retainUntil < current.retainUntil || mode !== current.mode);
    if (weakens && this.locked(version, bypassGovernance)) throw accessDenied();
    version.lock = { mode, retainUntil };
    return {};
  }
}
