// The anchored audit trail on the embedded local AWS: checkpoints of every chain head written to
// an Object Lock bucket, and verify-audit and evidence reading them. An attacker with write access
// to the audit table who cuts a chain's newest records AND its HEAD item leaves a chain that
// verifies on its own; the checkpoint written before the cut still names the lost head.
import { S3Client } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUDIT_TABLE, HEAD_SK, secretPk, seqSk } from '#adapters/audit-table';
import { deployedCheckpointDeps } from '#adapters/deployed-checkpoints';
import { dynamoChainHeads, knownChainHeads } from '#adapters/dynamodb-chain-heads';
import { S3CheckpointStore } from '#adapters/s3-checkpoints';
import { logger } from '#commons/logger';
import type { MetricsSink } from '#commons/metrics';
import {
  type Checkpoint,
  type CheckpointDeps,
  checkpointKey,
  hashCheckpoint,
  writeCheckpoint,
} from '#domain/audit-anchor';
import { TAG } from '#domain/vocabulary';
import { type AnchorSummary, createAuditAnchorHandler } from '#handlers/audit-anchor';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { contentMd5, S3RestClient } from '#local-aws/s3-rest';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { createCheckpointBucket } from '#local-aws/suite-anchor';
import {
  auditPartition,
  cli,
  createTaggedSecret,
  deleteAuditItem,
  parseCsv,
  sweepOnce,
  useLocalAwsEnv,
} from './support.ts';

let aws: LocalAws;
let suite: InstalledSuite;
/** Raw requests: the bucket's setup, and what an attacker sends. */
let s3: S3RestClient;
/** The SDK client the checkpoint store uses, as deployed. */
let sdk: S3Client;
const arns: Record<string, string> = {};
const DAY = 86_400_000;

/** A bucket as infra/audit-anchor.ts creates it: Object Lock on, COMPLIANCE by default. */
async function checkpointBucket(name: string): Promise<string> {
  await createCheckpointBucket(aws, name);
  return name;
}

const deps = (bucket: string, retentionDays?: number): CheckpointDeps => ({
  heads: dynamoChainHeads(suite.dynamo, suite.tableName),
  store: new S3CheckpointStore({ client: sdk, bucket }),
  clock: aws.clock.now,
  ...(retentionDays ? { retentionDays } : {}),
});

/**
 * The attacker's cut: deletes the newest `count` records of a chain and moves its HEAD item back
 * to the record before them, so the table alone shows nothing missing. Returns the chain's
 * records as they were (oldest first).
 */
async function cutNewest(arn: string, count: number) {
  const records = (await auditPartition(suite, arn))
    .filter((item) => String(item.sk).startsWith('SEQ#'))
    .sort((a, b) => Number(a.seq) - Number(b.seq));
  for (const item of records.slice(-count))
    await deleteAuditItem(suite, arn, seqSk(Number(item.seq)));
  await moveHeadBack(suite, arn, records.at(-count - 1)!);
  return records;
}

/** Points a chain's HEAD item at `keep`, a record still in the table, as the attacker's cut does. */
async function moveHeadBack(
  at: Pick<InstalledSuite, 'dynamo' | 'tableName'>,
  arn: string,
  keep: Record<string, unknown>,
) {
  await at.dynamo.send(
    new PutCommand({
      TableName: at.tableName,
      Item: {
        [AUDIT_TABLE.partitionKey]: secretPk(arn),
        [AUDIT_TABLE.sortKey]: HEAD_SK,
        seq: keep.seq,
        hash: keep.hash,
        at: keep.at,
      },
    }),
  );
}

const append = (arn: string, name: string) =>
  suite.audit.append({
    secretArn: arn,
    secretName: name,
    event: 'rotation.requested',
    outcome: 'started',
    trigger: { source: 'schedule' },
  });

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws({ clock: new Date('2026-07-01T09:00:00Z') });
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  s3 = new S3RestClient({
    region: aws.region,
    endpoint: aws.endpoint,
    credentials: aws.clientConfig.credentials,
  });
  sdk = new S3Client({ ...aws.clientConfig, forcePathStyle: true });
  for (const name of ['team/cut', 'team/intact', 'team/swept', 'team/unalerted']) {
    arns[name] = await createTaggedSecret(suite.secretsManager, name, 'acme_live_x', {
      [TAG.lifespan]: '7d',
    });
  }
  await sweepOnce(aws, suite);
  for (const name of ['team/cut', 'team/intact', 'team/swept', 'team/unalerted']) {
    for (let i = 0; i < 3; i++) await append(arns[name]!, name);
  }
}, 60_000);

afterAll(async () => {
  sdk?.destroy();
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('anchored audit trail', () => {
  it('writes a checkpoint on every run and alerts when a chain went back since the last one', async () => {
    // Prepare: the deployed audit-anchor handler, anchoring to its own bucket
    const bucket = await checkpointBucket('anchor-sweep');
    const anchor = createAuditAnchorHandler({
      checkpoint: deps(bucket),
      alerter: suite.sweepDeps.alerter,
    });
    const arn = arns['team/swept']!;
    const alertsFor = () =>
      aws.sns
        .messagesTo(suite.topicArn)
        .filter((m) => m.subject?.includes('audit.chain-regressed'));
    const first = (await anchor({})) as AnchorSummary;

    // Act: cut the newest record and move the HEAD item back, then run the anchor again
    const records = await cutNewest(arn, 1);
    const newest = Number(records.at(-1)!.seq);
    const second = (await anchor({})) as AnchorSummary;
    const third = (await anchor({})) as AnchorSummary;

    // Assess: one checkpoint per run; the run after the cut names the secret in a critical alert
    expect(first).toEqual({ seq: 1, regressions: 0 });
    expect(second).toEqual({ seq: 2, regressions: 1 });
    expect(third).toEqual({ seq: 3, regressions: 0 });
    const alerts = alertsFor();
    expect(alerts.map((m) => m.subject)).toEqual(['[CRITICAL] audit.chain-regressed: team/swept']);
    expect(alerts[0]!.message).toContain(`checkpoint 1 recorded record ${newest}`);
    expect(alerts[0]!.message).toContain('checkpoints/');
  });

  it('reads, at each sweep, the heads of the managed secrets and of the chains anchored before', async () => {
    // Prepare: three chains; one managed, one anchored by an earlier checkpoint, one neither
    const arn = (n: string) =>
      `arn:aws:secretsmanager:us-east-1:123456789012:secret:heads/${n}-AbCdEf`;
    for (const n of ['managed', 'anchored', 'stranger']) {
      for (let i = 0; i < 2; i++) await append(arn(n), `heads/${n}`);
    }
    await deleteAuditItem(suite, arn('managed'), HEAD_SK);
    const previous = { heads: [{ secretArn: arn('anchored'), seq: 1, hash: 'x' }] } as Checkpoint;

    // Act
    const heads = await knownChainHeads(suite.dynamo, suite.tableName, async () => [
      arn('managed'),
      arn('never-audited'),
    ])(previous);

    // Assess: the managed chain (its HEAD item gone: its newest record) and the anchored one
    expect(heads.map((h) => h.secretArn).sort()).toEqual([arn('anchored'), arn('managed')]);
    expect(heads.every((h) => h.seq === 2 && /^[0-9a-f]{64}$/.test(h.hash))).toBe(true);
  });

  it('writes no checkpoint while a regression cannot be alerted, so the next run alerts it', async () => {
    // Prepare: a checkpoint, then a cut, then an alerter that can neither record nor publish
    const bucket = await checkpointBucket('anchor-unalerted');
    const arn = arns['team/unalerted']!;
    const handler = (alerter: typeof suite.sweepDeps.alerter) =>
      createAuditAnchorHandler({ checkpoint: deps(bucket), alerter });
    expect(await handler(suite.sweepDeps.alerter)({})).toEqual({ seq: 1, regressions: 0 });
    await cutNewest(arn, 1);
    const broken = {
      send: async () => {
        throw new Error('the outbox and SNS are both unreachable');
      },
    };

    // Act
    const failed = handler(broken)({});
    await expect(failed).rejects.toThrow(/could not be written: .*unreachable/);
    const next = await handler(suite.sweepDeps.alerter)({});

    // Assess
    expect(next).toEqual({ seq: 2, regressions: 1 });
    const alerts = aws.sns
      .messagesTo(suite.topicArn)
      .filter((m) => m.subject === '[CRITICAL] audit.chain-regressed: team/unalerted');
    expect(alerts).toHaveLength(1);
  });

  it('finds the newest checkpoint among the last two days, listing everything only when there is none', async () => {
    // Prepare: a store whose ListObjectsV2 calls are counted
    const bucket = await checkpointBucket('anchor-recent');
    const client = new S3Client({ ...aws.clientConfig, forcePathStyle: true });
    const lists: (string | undefined)[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListObjectsV2Command') {
          lists.push((args.input as { StartAfter?: string }).StartAfter);
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const counted: CheckpointDeps = {
      ...deps(bucket),
      store: new S3CheckpointStore({ client, bucket }),
    };

    // Act
    const first = await writeCheckpoint(counted);
    const afterFirst = lists.splice(0);
    await aws.clock.advance(15 * 60_000);
    const second = await writeCheckpoint(counted);
    const afterSecond = lists.splice(0);
    await aws.clock.advance(3 * DAY);
    const third = await writeCheckpoint(counted);
    const afterThird = lists.splice(0);
    client.destroy();

    // Assess: one list of the recent keys when there is a recent one; else a full list too
    expect([first, second, third].map((w) => w.checkpoint.seq)).toEqual([1, 2, 3]);
    expect(third.checkpoint.previousHash).toBe(second.checkpoint.hash);
    expect(afterFirst).toEqual([expect.stringMatching(/^checkpoints\/20/), undefined]);
    expect(afterSecond).toEqual([expect.stringMatching(/^checkpoints\/20/)]);
    expect(afterThird).toEqual([expect.stringMatching(/^checkpoints\/20/), undefined]);
  });

  it('fails the invocation when the checkpoint cannot be written, naming why, and counts it', async () => {
    // Prepare: a bucket that does not exist
    const counted: string[] = [];
    const metrics: MetricsSink = {
      addMetric: (name) => counted.push(name),
      publishStoredMetrics: () => {},
    };
    const anchor = createAuditAnchorHandler({
      checkpoint: deps('anchor-missing-bucket'),
      alerter: suite.sweepDeps.alerter,
      metrics,
    });

    // Act
    const run = anchor({});

    // Assess: a failed invocation is what the function's Errors alarm e-mails
    await expect(run).rejects.toThrow(/the audit checkpoint could not be written: .*NoSuchBucket/);
    expect(counted).toEqual(['CheckpointFailed']);
  });

  it('refuses a scheduler input that is not an object, as the sweep does', async () => {
    const anchor = createAuditAnchorHandler({
      checkpoint: deps('unused'),
      alerter: suite.sweepDeps.alerter,
    });
    await expect(anchor('now')).rejects.toThrow(/audit-anchor: expected the scheduler's input/);
  });

  it('detects a chain cut short together with its HEAD item once a checkpoint recorded the head', async () => {
    // Prepare: a checkpoint of every head, then the attacker's cut
    const bucket = await checkpointBucket('anchor-truncation');
    const written = await writeCheckpoint(deps(bucket));
    const arn = arns['team/cut']!;
    const records = await cutNewest(arn, 2);
    const newest = Number(records.at(-1)!.seq);

    // Act
    const unanchored = await cli(aws, 'verify-audit');
    const anchored = await cli(aws, 'verify-audit', '--checkpoint-bucket', bucket);
    const one = await cli(aws, 'verify-audit', 'team/cut', '--checkpoint-bucket', bucket);
    const next = await writeCheckpoint(deps(bucket));

    // Assess: the table alone cannot tell; the checkpoint can, and names the secret
    expect(written.checkpoint.heads.map((h) => h.secretArn)).toContain(arn);
    expect(written.ref.lockMode).toBe('COMPLIANCE');
    expect(unanchored.code).toBe(0);
    expect(anchored.code).toBe(1);
    expect(anchored.stdout).toContain('✗ team/cut: BROKEN');
    expect(anchored.stdout).toContain(
      `the chain was cut short: it ends at record ${newest - 2}, but checkpoint 1 (${written.ref.key}) recorded its head as record ${newest}`,
    );
    expect(anchored.stdout).toMatch(/✓ team\/intact: \d+ records verified/);
    expect(anchored.stdout).toContain(`✓ checkpoints in s3://${bucket}: 1 verified`);
    expect(one.code).toBe(1);
    expect(one.stdout).toContain('✗ team/cut: BROKEN');
    // The next checkpoint records the cut chain as it is, and says it went back.
    expect(next.regressions).toEqual([
      {
        secretArn: arn,
        message: expect.stringContaining(
          `checkpoint 1 recorded record ${newest} (${String(records.at(-1)!.hash).slice(0, 12)}…), the table now says record ${newest - 2}`,
        ),
      },
    ]);
    const after = await cli(aws, 'verify-audit', '--checkpoint-bucket', bucket, '--format', 'json');
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout)).toMatchObject({
      ok: false,
      chains: expect.arrayContaining([
        expect.objectContaining({
          secretArn: arn,
          ok: false,
          breaks: [expect.objectContaining({ kind: 'deleted', seq: newest })],
        }),
      ]),
      checkpoints: { bucket, ok: true, count: 2 },
    });
  });

  it('reports a checkpoint missing from the sequence, and one that does not follow its predecessor', async () => {
    // Prepare: two real checkpoints, then forged ones written by whoever holds the writer role
    const bucket = await checkpointBucket('anchor-gap');
    const first = await writeCheckpoint(deps(bucket));
    const second = await writeCheckpoint(deps(bucket));
    const forge = async (seq: number, previousHash: string) => {
      const body: Omit<Checkpoint, 'hash'> = {
        seq,
        previousHash,
        at: aws.clock.now().toISOString(),
        heads: first.checkpoint.heads,
      };
      const text = JSON.stringify({ ...body, hash: hashCheckpoint(body) });
      await s3.send({
        method: 'PUT',
        bucket,
        key: checkpointKey(aws.clock.now(), seq),
        body: text,
        headers: { 'content-md5': contentMd5(text) },
      });
    };
    await forge(4, second.checkpoint.hash);
    await forge(5, first.checkpoint.hash);

    // Act
    const result = await cli(aws, 'verify-audit', 'team/intact', '--checkpoint-bucket', bucket);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`✗ checkpoints in s3://${bucket}: 2 problems in 4 checkpoints`);
    expect(result.stdout).toContain(
      `gap: checkpoint 3 is missing: checkpoint 2 (${second.ref.key}) is followed by checkpoint 4`,
    );
    expect(result.stdout).toMatch(/gap: checkpoint 5 \(.*\) does not follow checkpoint 4/);
  });

  it('lists each checkpoint in the evidence with its bucket, key, version and retain-until date', async () => {
    // Prepare: written as the deployed sweep would, from its environment
    const bucket = await checkpointBucket('anchor-evidence');
    const deployed = deployedCheckpointDeps(suite.tableName, suite.dynamo, {
      ...aws.env,
      CHECKPOINT_BUCKET_NAME: bucket,
    });
    const written = await writeCheckpoint({ ...deployed!, clock: aws.clock.now });

    // Act
    const json = await cli(aws, 'evidence', '--format', 'json', '--checkpoint-bucket', bucket);
    const csv = await cli(aws, 'evidence', '--checkpoint-bucket', bucket);

    // Assess: exit 1 because team/cut is still cut (first test); the checkpoints are listed
    const parsed = JSON.parse(json.stdout);
    expect(parsed.metadata.checkpointBucket).toBe(bucket);
    expect(parsed.checkpoints).toEqual([
      {
        seq: 1,
        at: written.checkpoint.at,
        hash: written.checkpoint.hash,
        previousHash: '0'.repeat(64),
        chains: written.checkpoint.heads.length,
        bucket,
        key: written.ref.key,
        versionId: written.ref.versionId,
        lockMode: 'COMPLIANCE',
        retainUntil: new Date(aws.clock.now().getTime() + 400 * DAY).toISOString(),
      },
    ]);
    const { rows } = parseCsv(csv.stdout);
    const header = rows[0]!;
    const row = rows.find((r) => r[0] === 'checkpoint')!;
    expect(row[header.indexOf('checkpoint_key')]).toBe(written.ref.key);
    expect(row[header.indexOf('checkpoint_version')]).toBe(written.ref.versionId);
    expect(row[header.indexOf('retain_until')]).toBe(written.ref.retainUntil);
    expect(row[header.indexOf('chain_status')]).toBe('verified');
  });

  // Last: it moves the clock past the retention.
  it('keeps a checkpoint against deletion and overwriting until its retention ends, then lets it go', async () => {
    // Prepare
    const bucket = await checkpointBucket('anchor-lock');
    const written = await writeCheckpoint(deps(bucket, 2));
    const key = written.ref.key;
    const original = (
      await s3.send({ method: 'GET', bucket, key, query: { versionId: written.ref.versionId } })
    ).body.toString();

    // Act: delete the version, overwrite the key, hide it behind a delete marker
    const deleted = await s3
      .send({ method: 'DELETE', bucket, key, query: { versionId: written.ref.versionId } })
      .then(
        () => 'deleted',
        (error: Error) => error.name,
      );
    const forged = '{"seq":1}';
    await s3.send({
      method: 'PUT',
      bucket,
      key,
      body: forged,
      headers: { 'content-md5': contentMd5(forged) },
    });
    await s3.send({ method: 'DELETE', bucket, key });
    const kept = (
      await s3.send({ method: 'GET', bucket, key, query: { versionId: written.ref.versionId } })
    ).body.toString();
    const verified = await cli(aws, 'verify-audit', 'team/intact', '--checkpoint-bucket', bucket);

    // Assess: the original stays readable and is the one checked; the tampering is reported
    expect(deleted).toBe('AccessDenied');
    expect(kept).toBe(original);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(`overwritten: ${key} was written over: it has 2 versions`);
    expect(verified.stdout).toContain(`deleted: ${key} was deleted: a delete marker hides it`);
    expect(verified.stdout).toMatch(/✓ team\/intact: \d+ records verified/);

    // Act: past the retain-until date
    await aws.clock.advance(2 * DAY + 1000);
    const released = await s3
      .send({ method: 'DELETE', bucket, key, query: { versionId: written.ref.versionId } })
      .then(
        () => 'deleted',
        (error: Error) => error.name,
      );

    // Assess
    expect(released).toBe('deleted');
  });

  it('checkpoints once every sweep interval on its own schedule, and alerts a regression once', async () => {
    // Prepare: a suite installed with its bucket and its schedules, and a secret it manages
    const anchored = await installSuite(aws, {
      stackName: 'Anchored',
      anchor: true,
      triggers: { sweep: true },
    });
    const bucket = 'anchored-checkpoints';
    const store = new S3CheckpointStore({ client: sdk, bucket });
    const arn = await createTaggedSecret(anchored.secretsManager, 'anchored/app', 'acme_live_y', {
      [TAG.lifespan]: '7d',
    });
    const regressed = () =>
      aws.sns
        .messagesTo(anchored.topicArn)
        .filter((m) => m.subject === '[CRITICAL] audit.chain-regressed: anchored/app');

    // Act: one interval (the sweep attaches rotation and audits it, then the anchor runs)
    await aws.clock.advance(anchored.sweepIntervalMs);
    const afterOne = (await store.list()).map((c) => c.checkpoint?.seq);
    // Act: cut the chain's newest record with its HEAD item, then two more intervals
    const partition = (await auditPartition(anchored, arn)).filter((i) =>
      String(i.sk).startsWith('SEQ#'),
    );
    expect(partition.length).toBeGreaterThan(1);
    const newest = Math.max(...partition.map((i) => Number(i.seq)));
    const keep = partition.find((i) => Number(i.seq) === newest - 1)!;
    await deleteAuditItem(anchored, arn, seqSk(newest));
    await moveHeadBack(anchored, arn, keep);
    await aws.clock.advance(2 * anchored.sweepIntervalMs);
    anchored.disconnect();

    // Assess: one checkpoint per interval, each anchoring the managed secret's chain
    expect(afterOne).toEqual([1]);
    const all = (await store.list()).map((c) => c.checkpoint!);
    expect(all.map((c) => c.seq).sort()).toEqual([1, 2, 3]);
    expect(all.every((c) => c.heads.some((h) => h.secretArn === arn))).toBe(true);
    expect(regressed()).toHaveLength(1);
  });
});
