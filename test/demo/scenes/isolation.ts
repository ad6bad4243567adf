// The demo's environment-isolation scenes (SPEC "Environment isolation"): a token copied by hand
// from a staging secret into a prod secret, both opted in, is caught by the sweep and alerted;
// with token-rotation:isolation=enforce the staging copy is rotated at once. Every claim is read
// back from the local AWS (the index, the alert topic, the secrets, the audit trail).
import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE, fingerprintPk } from '#adapters/audit-table';
import { indexedToken } from '#adapters/dynamodb-token-index';
import { keyedFingerprint } from '#domain/keyed-fingerprint';
import type { AuditRecord } from '#domain/ports';
import { TAG } from '#domain/vocabulary';
import type { LocalAws } from '#local-aws/index';
import type { InstalledSuite } from '#local-aws/suite';
import type { Timeline } from '../stage.ts';

/** What the scene needs from the demo's story: its secrets helpers and its clock. */
export interface IsolationSceneDeps {
  aws: LocalAws;
  suite: InstalledSuite;
  /** Creates a secret with tags (the demo remembers its value for the final canary check). */
  create(
    name: string,
    value: string,
    kind: string,
    tags: Record<string, string>,
  ): Promise<{ name: string; arn: string }>;
  /** Reads a secret's AWSCURRENT value (remembered for the canary check too). */
  readCurrent(secret: { arn: string; name: string }): Promise<string>;
  advance(ms: number, why: string): Promise<void>;
  kind: string;
}

const MINUTE = 60_000;
const token = () => `shop_live_${randomBytes(32).toString('hex')}`;

export async function isolationScenes(tl: Timeline, d: IsolationSceneDeps): Promise<void> {
  const { aws, suite } = d;
  const sharedAlerts = () =>
    aws.sns
      .messagesTo(suite.topicArn)
      .filter((m) => m.attributes.event?.StringValue === 'token.shared');
  const pastNextSweep = async () => {
    const next = Math.floor(aws.clock.now().getTime() / (15 * MINUTE)) * 15 * MINUTE + 16 * MINUTE;
    await d.advance(next - aws.clock.now().getTime(), 'past the next sweep');
  };
  const optIn = (environment: string, extra: Record<string, string> = {}) => ({
    [TAG.lifespan]: '7d',
    [TAG.environment]: environment,
    ...extra,
  });

  await tl.stage(
    'A token copied by hand from staging into prod: the sweep catches it',
    async () => {
      const value = token();
      const before = sharedAlerts().length;
      const staging = await d.create('staging/shop/api-key', value, d.kind, optIn('staging'));
      const prod = await d.create('prod/shop/api-key', value, d.kind, optIn('prod'));
      tl.say(
        `${staging.name} (staging) and ${prod.name} (prod) hold the same token, both opted in`,
      );
      await pastNextSweep();
      const key = (await suite.store.getValue(suite.fingerprintKeySecretArn))!;
      const fingerprint = keyedFingerprint(key, value);
      const out = await suite.dynamo.send(
        new QueryCommand({
          TableName: suite.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey },
          ExpressionAttributeValues: { ':pk': fingerprintPk(fingerprint) },
        }),
      );
      const rows = (out.Items ?? []).map((item) => indexedToken(item)!);
      tl.table([
        ['keyed fingerprint', 'secret', 'environment', 'stages'],
        ...rows.map((r) => [
          `${r.fingerprint.slice(0, 17)}…`,
          r.secretName,
          r.environment ?? '-',
          r.stages.join(','),
        ]),
      ]);
      tl.check(
        rows.length === 2 && new Set(rows.map((r) => r.secretArn)).size === 2,
        'the token index holds the one fingerprint under both secrets (and no token value)',
      );
      const alerts = sharedAlerts().slice(before);
      const alert = alerts[0];
      if (alert) {
        tl.say(`Subject: ${alert.subject}`);
        tl.say(alert.message.split('\n').find((l) => l.includes('One token is held')) ?? '');
      }
      tl.check(
        alerts.length === 1 &&
          alert?.subject?.startsWith('[CRITICAL] token.shared') === true &&
          alert.message.includes(`${staging.name} (staging)`) &&
          alert.message.includes(`${prod.name} (prod)`),
        'one critical token.shared alert names both secrets and their environments',
      );
      const records = [
        ...(await suite.audit.history(staging.arn)),
        ...(await suite.audit.history(prod.arn)),
      ].filter((r: AuditRecord) => r.event === 'token.shared');
      tl.check(records.length === 1, 'token.shared is audited once');
      await pastNextSweep();
      tl.check(sharedAlerts().length === before + 1, 'the next sweep sends no second alert');
    },
  );

  await tl.stage(
    `The same mistake with ${TAG.isolation}=enforce on prod: the staging copy is rotated at once`,
    async () => {
      const value = token();
      const staging = await d.create('staging/search/api-key', value, d.kind, optIn('staging'));
      const prod = await d.create(
        'prod/search/api-key',
        value,
        d.kind,
        optIn('prod', { [TAG.isolation]: 'enforce' }),
      );
      await pastNextSweep();
      const requested = (await suite.audit.history(staging.arn)).filter(
        (r) => r.event === 'rotation.requested' && r.detail?.reason === 'token.shared',
      );
      tl.check(
        requested.length === 1 && requested[0]!.outcome === 'succeeded',
        'the sweep asked Secrets Manager to rotate the staging copy (rotation.requested, reason token.shared)',
      );
      tl.check(
        !(await d.readCurrent(staging)).includes(value) && (await d.readCurrent(prod)) === value,
        'staging now holds a new token and prod the one it had (staging’s old version stays AWSPREVIOUS until its grace ends)',
      );
    },
  );
}
