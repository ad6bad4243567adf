// An AWS Health exposed-credential event naming hundreds of access keys, most of them held by no
// managed secret, in a local AWS session (embedded, or behind AWS_ENDPOINT_URL; the revoke-events
// handler runs here over clients at that endpoint, on the session's clock): one delivery does bounded work (one pass over the
// managed secrets, one record for the keys nobody holds, a capped number of revokes, one summary
// alert) and the next delivery carries on where it stopped.
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issuer } from '#domain/ports';
import { MAX_HEALTH_REVOKES_PER_INVOCATION } from '#domain/revoke-events';
import { mintToken } from '#domain/tokens';
import { TAG } from '#domain/vocabulary';
import { createRevokeEventsHandler } from '#handlers/revoke-events';
import { settleListings } from '../support/settle-listings.ts';
import { scaled } from './support/endpoint.ts';
import { exposedCredentialEvent } from './support/health-event.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';

const skipped = await needsSessions(
  import.meta.url,
  "what SNS published (one summary alert per delivery) and the endpoint's Secrets Manager call record (one pass over the managed secrets)",
);

let aws: Session;
let suite: SuiteAt;

/** A recording stand-in for the iam-access-key issuer (the emulator's IAM is not needed here). */
const revokedKeys = new Set<string>();
let counter = 0;
const newKeyId = () =>
  `AKIA${String(++counter).padStart(6, '0')}${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
const iamIssuer: Issuer = {
  kind: 'iam-access-key',
  async mint(ctx) {
    const { userName } = JSON.parse(ctx.current);
    return JSON.stringify({ userName, accessKeyId: newKeyId(), secretAccessKey: mintToken('x') });
  },
  async verify() {},
  async revoke(ctx) {
    revokedKeys.add(JSON.parse(ctx.value).accessKeyId);
  },
  name: (value) => JSON.parse(value).accessKeyId,
};

beforeAll(async () => {
  if (skipped) return;
  aws = await openSession({ clock: '2026-03-02T09:00:00Z' }, { stackName: 'HealthFlood' });
  suite = aws.suite;
});

afterAll(async () => {
  if (skipped) return;
  await aws.idle();
  await aws.stop();
});

describe('an AWS Health event naming hundreds of keys', () => {
  it(
    'revokes in capped batches across deliveries, with one record for the unknown keys and one summary alert per delivery',
    async () => {
      // Prepare: 30 managed secrets, each holding one of the keys the event names among 270 unknown ones
      const managed: string[] = [];
      for (let i = 0; i < 30; i++) {
        const accessKeyId = newKeyId();
        managed.push(accessKeyId);
        await suite.secretsManager.send(
          new CreateSecretCommand({
            Name: `health-flood/user-${i}`,
            SecretString: JSON.stringify({
              userName: `ci-${i}`,
              accessKeyId,
              secretAccessKey: mintToken('s'),
            }),
            Tags: [
              { Key: TAG.lifespan, Value: '30d' },
              { Key: TAG.kind, Value: 'iam-access-key' },
            ],
          }),
        );
      }
      const unknown = Array.from({ length: 270 }, newKeyId);
      const event = exposedCredentialEvent(aws.clock.now(), [
        ...unknown.slice(0, 135),
        ...managed,
        ...unknown.slice(135),
      ]);
      const { eventArn } = event.detail;
      const handler = createRevokeEventsHandler({
        ...suite.revokeDeps,
        issuerFor: () => iamIssuer,
      });
      const summaries = async () =>
        (await aws.published(suite.topicArn)).filter(
          (m) => m.attributes.secret?.StringValue === 'AWS Health AWS_RISK_CREDENTIALS_EXPOSED',
        );
      const listed = async () =>
        (await aws.secretsManagerCalls()).filter((c) => c.operation === 'ListSecrets').length;

      await settleListings(aws);

      // Act: the first delivery
      const listsBefore = await listed();
      const first = await handler(structuredClone(event)).catch((error: Error) => error);

      // Assess: bounded work, and told to come again
      expect(String(first)).toMatch(
        /30 managed secrets; 20 were handled in this delivery and 10 are left/,
      );
      // One listing for 30 secrets, not a lookup per key: one page, or a few when an eventually
      // consistent ListSecrets answers with short pages (as AWS may).
      const lists = (await listed()) - listsBefore;
      if ((await aws.listConsistencyLagMs()) === 0) expect(lists).toBe(1);
      else expect(lists).toBeLessThan(10);
      expect(revokedKeys.size).toBe(MAX_HEALTH_REVOKES_PER_INVOCATION);
      const ignored = await suite.audit.history(eventArn);
      expect(ignored.map((r) => `${r.event}:${r.outcome}`)).toEqual(['revoke.ignored:skipped']);
      expect(ignored[0]!.detail?.keys).toBe(270);
      expect(ignored[0]!.tokens?.reported).toMatch(/ and 250 more$/);
      const [summary, ...more] = await summaries();
      expect(more).toEqual([]);
      expect(summary!.subject).toContain('revoke.requested');
      expect(summary!.message).toContain('20 revoked now, 0 failed, 10 left for the next delivery');

      // Act: EventBridge delivers it again
      const second = await handler(structuredClone(event));

      // Assess: the rest is done, and nothing twice
      expect(second.status).toBe('handled');
      for (const key of managed) expect(revokedKeys.has(key)).toBe(true);
      const completed = (await aws.published(suite.topicArn)).filter(
        (m) => m.attributes.event?.StringValue === 'revoke.completed',
      );
      expect(completed).toHaveLength(30);
      expect(await summaries()).toHaveLength(2);
    },
    scaled(120_000),
  );
});
