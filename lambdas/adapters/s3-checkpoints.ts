// The checkpoint bucket: one S3 object per checkpoint, written once under COMPLIANCE retention
// (Object Lock), read back after the write, and listed with every version of every key so a
// checkpoint written over or hidden by a delete marker is read from its original version.
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { retry } from '#commons/clients';
import {
  CHECKPOINT_PREFIX,
  type Checkpoint,
  type CheckpointRef,
  type CheckpointStore,
  type StoredCheckpoint,
} from '#domain/audit-anchor';

/** Objects read at once while listing: S3 serves thousands a second per prefix. */
const READ_CONCURRENCY = 8;

let deployedClient: S3Client | undefined;

/**
 * The deployed sweep's store, with one S3 client per container. A custom endpoint (the embedded
 * local AWS, a compatible store) is addressed path-style: it has no per-bucket host names.
 */
export function deployedCheckpointStore(bucket: string, env: NodeJS.ProcessEnv): CheckpointStore {
  deployedClient ??= new S3Client({
    ...retry,
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
  });
  return new S3CheckpointStore({ bucket, client: deployedClient });
}

export class S3CheckpointStore implements CheckpointStore {
  constructor(private readonly options: { client: S3Client; bucket: string; prefix?: string }) {}

  private get prefix() {
    return this.options.prefix ?? CHECKPOINT_PREFIX;
  }

  async latest(
    recentSince?: Date,
  ): Promise<{ checkpoint: Checkpoint; ref: CheckpointRef } | undefined> {
    const { bucket } = this.options;
    // Keys begin with their ISO time, so the newest key since `recentSince` is the newest of
    // all when there is one; a year of checkpoints is then not listed at every sweep.
    const recent =
      recentSince && (await this.newestKey(`${this.prefix}${recentSince.toISOString()}`));
    const newest = recent ?? (await this.newestKey());
    if (newest === undefined) return undefined;
    const read = await this.read(newest);
    if (!read.checkpoint) {
      throw new Error(
        `the newest checkpoint s3://${bucket}/${newest} is not a checkpoint (${read.unreadable}); the next one cannot be chained to it. Run verify-audit.`,
      );
    }
    return { checkpoint: read.checkpoint, ref: read.ref };
  }

  /** The last key under the prefix (after `startAfter` when given), listing page by page. */
  private async newestKey(startAfter?: string): Promise<string | undefined> {
    const { client, bucket } = this.options;
    let newest: string | undefined;
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: this.prefix,
          ContinuationToken: token,
          ...(startAfter && !token ? { StartAfter: startAfter } : {}),
        }),
      );
      newest = page.Contents?.at(-1)?.Key ?? newest;
      token = page.NextContinuationToken;
    } while (token);
    return newest;
  }

  // S3 requires Content-MD5 (or a checksum) on a put with Object Lock retention
  // (API_PutObject.html); the lock as stored is read back rather than assumed.
  async put(key: string, checkpoint: Checkpoint, retainUntil: Date): Promise<CheckpointRef> {
    const { client, bucket } = this.options;
    const body = `${JSON.stringify(checkpoint, null, 2)}\n`;
    const written = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ContentMD5: createHash('md5').update(body).digest('base64'),
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: retainUntil,
      }),
    );
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: written.VersionId }),
    );
    const ref = refOf(bucket, key, head);
    if (ref.lockMode !== 'COMPLIANCE' || ref.retainUntil === undefined) {
      throw new Error(
        `checkpoint s3://${bucket}/${key} was written but is not under COMPLIANCE retention (found ${ref.lockMode ?? 'no lock'}): is Object Lock enabled on the bucket?`,
      );
    }
    return ref;
  }

  async list(): Promise<StoredCheckpoint[]> {
    const { client, bucket } = this.options;
    const byKey = new Map<string, { versions: string[]; deleteMarker: boolean }>();
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await client.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: this.prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
        }),
      );
      for (const version of page.Versions ?? []) {
        entryOf(byKey, version.Key ?? '').versions.push(version.VersionId ?? 'null');
      }
      for (const marker of page.DeleteMarkers ?? []) {
        entryOf(byKey, marker.Key ?? '').deleteMarker = true;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    const keys = [...byKey.keys()].filter((key) => byKey.get(key)!.versions.length > 0).sort();
    const stored: StoredCheckpoint[] = [];
    for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
      const batch = keys.slice(i, i + READ_CONCURRENCY).map(async (key) => {
        const { versions, deleteMarker } = byKey.get(key)!;
        // Listed newest first: the last is the version written first, the one to trust.
        const read = await this.read(key, versions.at(-1));
        return { ...read, versions: versions.length, deleteMarker };
      });
      stored.push(...(await Promise.all(batch)));
    }
    return stored;
  }

  private async read(
    key: string,
    versionId?: string,
  ): Promise<Pick<StoredCheckpoint, 'ref' | 'checkpoint' | 'unreadable'>> {
    const { client, bucket } = this.options;
    const got = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
    );
    const ref = refOf(bucket, key, got);
    const parsed = parseCheckpoint((await got.Body?.transformToString('utf8')) ?? '');
    return typeof parsed === 'string' ? { ref, unreadable: parsed } : { ref, checkpoint: parsed };
  }
}

const entryOf = (
  byKey: Map<string, { versions: string[]; deleteMarker: boolean }>,
  key: string,
) => {
  const entry = byKey.get(key) ?? { versions: [], deleteMarker: false };
  byKey.set(key, entry);
  return entry;
};

function refOf(
  bucket: string,
  key: string,
  object: { VersionId?: string; ObjectLockMode?: string; ObjectLockRetainUntilDate?: Date },
): CheckpointRef {
  return {
    bucket,
    key,
    versionId: object.VersionId ?? 'null',
    ...(object.ObjectLockMode ? { lockMode: object.ObjectLockMode } : {}),
    ...(object.ObjectLockRetainUntilDate
      ? { retainUntil: object.ObjectLockRetainUntilDate.toISOString() }
      : {}),
  };
}

/** A checkpoint read from its JSON, or what is wrong with it. */
export function parseCheckpoint(text: string): Checkpoint | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'its body is not JSON';
  }
  const c = value as Partial<Checkpoint>;
  const isHash = (h: unknown) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h);
  if (!c || typeof c !== 'object') return 'its body is not a JSON object';
  if (!Number.isInteger(c.seq) || (c.seq as number) < 1) return 'its seq is not a number ≥ 1';
  if (!isHash(c.hash) || !isHash(c.previousHash))
    return 'its hash or previousHash is not SHA-256 hex';
  if (typeof c.at !== 'string' || Number.isNaN(Date.parse(c.at))) return 'its time is not a date';
  if (
    !Array.isArray(c.heads) ||
    !c.heads.every(
      (h) => h && typeof h.secretArn === 'string' && Number.isInteger(h.seq) && isHash(h.hash),
    )
  ) {
    return 'its heads are not a list of {secretArn, seq, hash}';
  }
  return {
    seq: c.seq as number,
    previousHash: c.previousHash as string,
    at: c.at,
    heads: c.heads.map(({ secretArn, seq, hash }) => ({ secretArn, seq, hash })),
    hash: c.hash as string,
  };
}
