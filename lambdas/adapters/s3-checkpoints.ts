// The checkpoint bucket: one S3 object per checkpoint, written once under COMPLIANCE retention
// (Object Lock), read back after the write, and listed with every version of every key so a
// checkpoint written over or hidden by a delete marker is read from its original version.
import {
  CHECKPOINT_PREFIX,
  type Checkpoint,
  type CheckpointRef,
  type CheckpointStore,
  type StoredCheckpoint,
} from '#domain/audit-anchor';
import { contentMd5, type S3Response, type S3RestClient, xmlElements, xmlText } from './s3-rest.ts';

/** Objects read at once while listing: S3 serves thousands a second per prefix. */
const READ_CONCURRENCY = 8;

export class S3CheckpointStore implements CheckpointStore {
  constructor(
    private readonly options: { client: S3RestClient; bucket: string; prefix?: string },
  ) {}

  private get prefix() {
    return this.options.prefix ?? CHECKPOINT_PREFIX;
  }

  async latest(): Promise<{ checkpoint: Checkpoint; ref: CheckpointRef } | undefined> {
    let newest: string | undefined;
    let token: string | undefined;
    do {
      const page = await this.request({
        method: 'GET',
        query: { 'list-type': '2', prefix: this.prefix, 'continuation-token': token },
      });
      const xml = page.body.toString('utf8');
      newest = xmlElements(xml, 'Key').at(-1) ?? newest;
      token = xmlText(xml, 'NextContinuationToken');
    } while (token);
    if (newest === undefined) return undefined;
    const read = await this.read(newest);
    if (!read.checkpoint) {
      throw new Error(
        `the newest checkpoint s3://${this.options.bucket}/${newest} is not a checkpoint (${read.unreadable}); the next one cannot be chained to it. Run verify-audit.`,
      );
    }
    return { checkpoint: read.checkpoint, ref: read.ref };
  }

  // S3 requires Content-MD5 (or a checksum) on a put with Object Lock retention
  // (API_PutObject.html); the lock as stored is read back rather than assumed.
  async put(key: string, checkpoint: Checkpoint, retainUntil: Date): Promise<CheckpointRef> {
    const body = `${JSON.stringify(checkpoint, null, 2)}\n`;
    const written = await this.request({
      method: 'PUT',
      key,
      body,
      headers: {
        'content-type': 'application/json',
        'content-md5': contentMd5(body),
        'x-amz-object-lock-mode': 'COMPLIANCE',
        'x-amz-object-lock-retain-until-date': retainUntil.toISOString(),
      },
    });
    const versionId = written.headers['x-amz-version-id'];
    const head = await this.request({ method: 'HEAD', key, query: { versionId } });
    const ref = refOf(this.options.bucket, key, head);
    if (ref.lockMode !== 'COMPLIANCE' || ref.retainUntil === undefined) {
      throw new Error(
        `checkpoint s3://${this.options.bucket}/${key} was written but is not under COMPLIANCE retention (found ${ref.lockMode ?? 'no lock'}): is Object Lock enabled on the bucket?`,
      );
    }
    return ref;
  }

  async list(): Promise<StoredCheckpoint[]> {
    const byKey = new Map<string, { versions: string[]; deleteMarker: boolean }>();
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await this.request({
        method: 'GET',
        query: {
          versions: '',
          prefix: this.prefix,
          'key-marker': keyMarker,
          'version-id-marker': versionMarker,
        },
      });
      const xml = page.body.toString('utf8');
      for (const version of xmlElements(xml, 'Version')) {
        const entry = entryOf(byKey, xmlText(version, 'Key') ?? '');
        entry.versions.push(xmlText(version, 'VersionId') ?? 'null');
      }
      for (const marker of xmlElements(xml, 'DeleteMarker')) {
        entryOf(byKey, xmlText(marker, 'Key') ?? '').deleteMarker = true;
      }
      const truncated = xmlText(xml, 'IsTruncated') === 'true';
      keyMarker = truncated ? xmlText(xml, 'NextKeyMarker') : undefined;
      versionMarker = truncated ? xmlText(xml, 'NextVersionIdMarker') : undefined;
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
    const got = await this.request({ method: 'GET', key, query: { versionId } });
    const ref = refOf(this.options.bucket, key, got);
    const parsed = parseCheckpoint(got.body.toString('utf8'));
    return typeof parsed === 'string' ? { ref, unreadable: parsed } : { ref, checkpoint: parsed };
  }

  private request(request: Omit<Parameters<S3RestClient['send']>[0], 'bucket'>) {
    return this.options.client.send({ ...request, bucket: this.options.bucket });
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

function refOf(bucket: string, key: string, response: S3Response): CheckpointRef {
  const mode = response.headers['x-amz-object-lock-mode'];
  const until = response.headers['x-amz-object-lock-retain-until-date'];
  return {
    bucket,
    key,
    versionId: response.headers['x-amz-version-id'] ?? 'null',
    ...(mode ? { lockMode: mode } : {}),
    ...(until ? { retainUntil: new Date(until).toISOString() } : {}),
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
