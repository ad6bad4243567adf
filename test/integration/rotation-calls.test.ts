// What one rotation costs in AWS calls, every service counted: the bundled rotation handler is
// deployed on the embedded local AWS with its endpoint pointed at a counting relay, so every
// request the function makes (Secrets Manager, DynamoDB, SNS, STS, ...) is seen on its way.
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GetSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenIndex } from '#adapters/dynamodb-token-index';
import { keyedFingerprint } from '#domain/keyed-fingerprint';
import { randomBase62 } from '#domain/tokens';
import { callerOf, readBody } from '#local-aws/wire';
import { ENTRY, useAws } from './support/aws.ts';

const aws = useAws();
const SLOW = 180_000;
/**
 * All services, per successful rotation; of them Secrets Manager's own budget (rotation/index.ts).
 * Beyond Secrets Manager's 8: two audit records (the new token in createSecret, its promotion in
 * finishSecret; setSecret has nothing to activate and testSecret's passed check needs no record),
 * each one TransactWriteItems with the chain's head item and no read first; and the revoke lock
 * read before and after each step that could undo a revoke (4 Query: twice each in createSecret
 * and finishSecret). A container that never wrote the secret's chain guesses a new chain: on an
 * existing one that write is refused, naming the head, and made again (+1, no read).
 */
const BUDGET = { all: 14, secretsManager: 8 };
/** A container new to an existing chain: its first write is refused once (see above). */
const COLD_ON_EXISTING_CHAIN = BUDGET.all + 1;
/**
 * A rotation that finds AWSPREVIOUS still on a version (its token not yet revoked: it runs within
 * the last one's grace) keeps that token tracked first: ListSecretVersionIds for the outgoing live
 * version's creation and UpdateSecretVersionStage for the revoke-after label, +2.
 */
const WITHIN_GRACE = { all: BUDGET.all + 2, secretsManager: BUDGET.secretsManager + 2 };

/** Forwards every request to `target` unchanged and notes `service.Operation` for each. */
class CountingRelay {
  readonly calls: string[] = [];
  private server: Server | undefined;
  endpoint = '';

  async start(target: string): Promise<void> {
    const to = new URL(target);
    this.server = createServer(async (req, res) => {
      const body = await readBody(req);
      const service = callerOf(req)?.service ?? 'unknown';
      // JSON protocols name the operation in X-Amz-Target; the Query protocol (IAM, STS, SNS) in Action.
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target
        ? target.slice(target.indexOf('.') + 1)
        : (new URLSearchParams(body).get('Action') ?? `${req.method} ${req.url}`);
      this.calls.push(`${service}.${operation}`);
      const forward = request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Calls since `from` (an index into calls), by `service.Operation`. */
  since(from: number): { total: number; of: (service: string) => number; text: string } {
    const made = this.calls.slice(from);
    const counts = new Map<string, number>();
    for (const call of made) counts.set(call, (counts.get(call) ?? 0) + 1);
    return {
      total: made.length,
      of: (service) => made.filter((call) => call.startsWith(`${service}.`)).length,
      text: [...counts].map(([call, n]) => `${call} ${n}`).join(', '),
    };
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

const relay = new CountingRelay();
let rotation = '';
let another = '';
/** Deployed as the stack deploys it, with the token index's fingerprint key. */
let indexing = '';
let keyArn = '';

beforeAll(async () => {
  if (!aws.local) return;
  await relay.start(aws.endpoint);
  rotation = await aws.deploy('counted', ENTRY.rotation, { AWS_ENDPOINT_URL: relay.endpoint });
  another = await aws.deploy('counted-2', ENTRY.rotation, { AWS_ENDPOINT_URL: relay.endpoint });
  keyArn = (await aws.createSecret('fingerprint-key', randomBytes(48).toString('base64'))).arn;
  indexing = await aws.deploy('counted-indexing', ENTRY.rotation, {
    AWS_ENDPOINT_URL: relay.endpoint,
    FINGERPRINT_KEY_SECRET_ARN: keyArn,
  });
}, SLOW);

afterAll(() => relay.stop());

const apiKey = () =>
  JSON.stringify({ owner: 'payments-team', token: `acme_live_${randomBase62(49)}` });

/** What the sweep does once it revoked the previous token after grace: AWSPREVIOUS comes off. */
async function previousRevoked(secretArn: string): Promise<void> {
  const stages = await aws.stages(secretArn);
  const previous = Object.keys(stages).find((id) => stages[id]!.includes('AWSPREVIOUS'));
  if (!previous) return;
  await aws.secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretArn,
      VersionStage: 'AWSPREVIOUS',
      RemoveFromVersionId: previous,
    }),
  );
}

describe('AWS calls of a rotation through the deployed function', () => {
  it(
    `makes at most ${BUDGET.all} calls to all services, ${BUDGET.secretsManager} of them to Secrets Manager, from a cold start and warm`,
    async (context) => {
      if (!aws.local) {
        // Only the embedded endpoint can be put behind the relay.
        await context.annotate('calls not counted: AWS_ENDPOINT_URL names an external endpoint');
        return;
      }
      // Prepare
      const secret = await aws.createSecret('counted', apiKey());
      const scenarios = [
        { name: 'cold start, new chain', fn: rotation, budget: BUDGET },
        { name: 'warm, previous token revoked', fn: rotation, budget: BUDGET },
        { name: 'warm, within grace', fn: rotation, budget: WITHIN_GRACE },
        {
          name: 'cold start, existing chain',
          fn: another,
          budget: { ...BUDGET, all: COLD_ON_EXISTING_CHAIN },
        },
      ];

      for (const { name, fn, budget } of scenarios) {
        if (name !== 'warm, within grace') await previousRevoked(secret.arn);
        // Act
        const before = relay.calls.length;
        const version = await aws.rotate(secret.arn, fn);
        const outcome = await aws.settle(secret.arn, version);
        const calls = relay.since(before);

        // Assess
        expect(outcome, name).toBe('succeeded');
        await context.annotate(`${name}: ${calls.total} calls (${calls.text})`);
        expect(calls.of('secretsmanager'), `${name}: ${calls.text}`).toBeLessThanOrEqual(
          budget.secretsManager,
        );
        expect(calls.total, `${name}: ${calls.text}`).toBeLessThanOrEqual(budget.all);
        // Only the audit's writes and the revoke lock's reads reach DynamoDB: nothing reads a head.
        expect(calls.text, name).not.toMatch(/dynamodb\.(GetItem|PutItem)/);
      }
      expect(await aws.audit.verify(secret.arn)).toMatchObject({ ok: true, total: 8 });
    },
    SLOW,
  );

  it(
    `indexes the minted token within the same budget: the key comes with AWSCURRENT, the item with the audit record`,
    async (context) => {
      if (!aws.local) {
        await context.annotate('calls not counted: AWS_ENDPOINT_URL names an external endpoint');
        return;
      }
      // Prepare
      const secret = await aws.createSecret('counted-indexing', apiKey());
      const index = new DynamoTokenIndex(aws.dynamo, aws.tableName);
      const key = (await aws.secretsManager.send(new GetSecretValueCommand({ SecretId: keyArn })))
        .SecretString!;

      for (const name of ['cold start', 'warm']) {
        await previousRevoked(secret.arn);
        // Act
        const before = relay.calls.length;
        const version = await aws.rotate(secret.arn, indexing);
        const outcome = await aws.settle(secret.arn, version);
        const calls = relay.since(before);

        // Assess
        expect(outcome, name).toBe('succeeded');
        await context.annotate(`${name}, indexing: ${calls.total} calls (${calls.text})`);
        expect(calls.of('secretsmanager'), `${name}: ${calls.text}`).toBeLessThanOrEqual(
          BUDGET.secretsManager,
        );
        expect(calls.total, `${name}: ${calls.text}`).toBeLessThanOrEqual(BUDGET.all);
        // The key is read once per container, in the call that reads AWSCURRENT anyway.
        const batched = name === 'cold start' ? 1 : 0;
        expect(calls.text, name).toContain(
          batched ? 'secretsmanager.BatchGetSecretValue 1' : 'secretsmanager.GetSecretValue 2',
        );
        expect(calls.text, name).not.toMatch(/dynamodb\.(GetItem|PutItem|UpdateItem)/);
        const token = JSON.parse(
          (
            await aws.secretsManager.send(
              new GetSecretValueCommand({ SecretId: secret.arn, VersionId: version }),
            )
          ).SecretString!,
        ).token as string;
        expect(await index.holders(keyedFingerprint(key, token)), name).toMatchObject([
          { secretArn: secret.arn, versionId: version },
        ]);
      }
    },
    SLOW,
  );
});
