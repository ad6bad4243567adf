// The local S3's state and wire shapes: buckets and their object versions, S3's XML answers and
// errors, and the two listings (ListObjectsV2, ListObjectVersions) read from that state.
import { randomBytes } from 'node:crypto';
import { AwsError } from './wire.ts';

export const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export type LockMode = 'COMPLIANCE' | 'GOVERNANCE';

export interface ObjectVersion {
  key: string;
  versionId: string;
  deleteMarker: boolean;
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  lock?: { mode: LockMode; retainUntil: Date };
}

export interface Bucket {
  name: string;
  created: Date;
  objectLockEnabled: boolean;
  versioning?: 'Enabled' | 'Suspended';
  defaultRetention?: { mode: LockMode; days?: number; years?: number };
  publicAccessBlock?: string;
  encryption?: string;
  /** Every version of every key, oldest first. */
  objects: Map<string, ObjectVersion[]>;
}

export const s3Error = (code: string, message: string, status: number) =>
  new AwsError(code, message, status);
/** AWS answers a locked version's delete or a shortened COMPLIANCE retention with a bare 403. */
export const accessDenied = () => s3Error('AccessDenied', 'Access Denied', 403);

export const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`,
  );
export const tag = (name: string, value: string | number | boolean | Date | undefined) =>
  value === undefined
    ? ''
    : `<${name}>${value instanceof Date ? value.toISOString() : escapeXml(String(value))}</${name}>`;
/** The text of the first `<name>` element of a request body. */
export const field = (xml: string, name: string) =>
  new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`).exec(xml)?.[1];

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  xml?: string;
  body?: Buffer;
}

export const xml = (text: string): Reply => ({ xml: text });

/** S3 names a delete marker in the headers of the error a read of it gets. */
export class DeleteMarkerError extends AwsError {
  readonly headers: Record<string, string>;
  constructor(code: string, message: string, status: number, marker: ObjectVersion) {
    super(code, message, status);
    this.headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId };
  }
}

export const SUB_RESOURCES = new Set([
  'versioning',
  'object-lock',
  'publicAccessBlock',
  'encryption',
  'versions',
]);

/** The additional-checksum headers PutObject accepts (API_PutObject.html). */
export const HEADER_CHECKSUMS = {
  'x-amz-checksum-crc32': true,
  'x-amz-checksum-crc32c': true,
  'x-amz-checksum-crc64nvme': true,
  'x-amz-checksum-sha1': true,
  'x-amz-checksum-sha256': true,
};

/** UTF-8 binary order, as S3 lists keys. */
export const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Opaque, URL-safe and unique, like S3's version IDs. */
export const newVersionId = () => randomBytes(24).toString('base64url');

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html: keys in UTF-8
// binary order, at most max-keys (default 1,000) per page, NextContinuationToken when truncated;
// a key whose newest version is a delete marker is not listed.
export function listObjectsV2(bucket: Bucket, q: URLSearchParams): Reply {
  const prefix = q.get('prefix') ?? '';
  const max = Math.min(Number(q.get('max-keys') ?? 1000), 1000);
  const after = q.has('continuation-token')
    ? Buffer.from(q.get('continuation-token')!, 'base64url').toString('utf8')
    : (q.get('start-after') ?? '');
  const live = [...bucket.objects.keys()]
    .filter((key) => key.startsWith(prefix) && key > after)
    .sort(compareKeys)
    .map((key) => bucket.objects.get(key)!.at(-1)!)
    .filter((v) => !v.deleteMarker);
  const page = live.slice(0, max);
  const truncated = live.length > max;
  const contents = page
    .map(
      (v) =>
        `<Contents>${tag('Key', v.key)}${tag('LastModified', v.lastModified)}${tag('ETag', v.etag)}${tag('Size', v.body.length)}<StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  const next = truncated ? Buffer.from(page.at(-1)!.key).toString('base64url') : undefined;
  return xml(
    `<ListBucketResult xmlns="${XMLNS}">${tag('Name', bucket.name)}${tag('Prefix', prefix)}${tag('KeyCount', page.length)}${tag('MaxKeys', max)}${tag('IsTruncated', truncated)}${tag('ContinuationToken', q.get('continuation-token') ?? undefined)}${tag('NextContinuationToken', next)}${contents}</ListBucketResult>`,
  );
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html: keys in order,
// each key's versions newest first, delete markers as <DeleteMarker>; paged by key-marker and
// version-id-marker.
export function listVersions(bucket: Bucket, q: URLSearchParams): Reply {
  const prefix = q.get('prefix') ?? '';
  const max = Math.min(Number(q.get('max-keys') ?? 1000), 1000);
  const keyMarker = q.get('key-marker') ?? '';
  const versionMarker = q.get('version-id-marker') ?? '';
  const all: ObjectVersion[] = [];
  for (const key of [...bucket.objects.keys()].sort(compareKeys)) {
    if (!key.startsWith(prefix) || key < keyMarker) continue;
    const newestFirst = [...bucket.objects.get(key)!].reverse();
    if (key === keyMarker) {
      const at = newestFirst.findIndex((v) => v.versionId === versionMarker);
      if (at < 0) continue;
      all.push(...newestFirst.slice(at + 1));
    } else all.push(...newestFirst);
  }
  const page = all.slice(0, max);
  const truncated = all.length > max;
  const last = page.at(-1);
  const entries = page
    .map((v) => {
      const latest = bucket.objects.get(v.key)!.at(-1) === v;
      const common = `${tag('Key', v.key)}${tag('VersionId', v.versionId)}${tag('IsLatest', latest)}${tag('LastModified', v.lastModified)}`;
      return v.deleteMarker
        ? `<DeleteMarker>${common}</DeleteMarker>`
        : `<Version>${common}${tag('ETag', v.etag)}${tag('Size', v.body.length)}<StorageClass>STANDARD</StorageClass></Version>`;
    })
    .join('');
  return xml(
    `<ListVersionsResult xmlns="${XMLNS}">${tag('Name', bucket.name)}${tag('Prefix', prefix)}${tag('KeyMarker', keyMarker)}${tag('VersionIdMarker', versionMarker)}${tag('MaxKeys', max)}${tag('IsTruncated', truncated)}${
      truncated && last
        ? `${tag('NextKeyMarker', last.key)}${tag('NextVersionIdMarker', last.versionId)}`
        : ''
    }${entries}</ListVersionsResult>`,
  );
}
