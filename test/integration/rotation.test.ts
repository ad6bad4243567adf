// Rotation end to end, as a user sees it: the bundled handler deployed with CreateFunction and
// invoked by Secrets Manager's RotateSecret, on the embedded local AWS or the endpoint named by
// AWS_ENDPOINT_URL (see support/aws.ts). Failures come from a real seam: an issuer that refuses.
import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '#domain/ports';
import { checkToken, randomBase62 } from '#domain/tokens';
import { STAGE } from '#domain/vocabulary';
import { ENTRY, useAws } from './support/aws.ts';

const aws = useAws();
const SLOW = 180_000;

let rotation: string;
beforeAll(async () => {
  rotation = await aws.deploy('rotation', ENTRY.rotation);
}, SLOW);

/** A JSON secret as users store API keys: the token plus fields that must be carried over. */
const apiKey = (token: string) =>
  `{\n  "owner": "payments-team",\n  "token": ${JSON.stringify(token)},\n  "scopes": ["charges:read", "charges:write"],\n  "limit": 12345678901234567890\n}`;
const liveToken = () => `acme_live_${randomBase62(49)}`;
const tokenIn = (value: string | undefined) => JSON.parse(value ?? '{}').token as string;
const withoutToken = (value: string | undefined) => value?.replace(/"token": "[^"]*"/, '');

const holders = (stages: Record<string, string[]>, stage: string) =>
  Object.keys(stages).filter((id) => stages[id]!.includes(stage));
/** AWSPENDING on a version that is not AWSCURRENT: a rotation in progress, or stuck. */
const strayPending = (stages: Record<string, string[]>) =>
  holders(stages, STAGE.pending).filter((id) => !stages[id]!.includes(STAGE.current));

/** A random rotation's records: its new token and its promotion (the other steps change nothing). */
const RECORDED = ['createSecret', 'finishSecret'];
const stepTrail = (outcomes: Partial<Record<string, string>> = {}) =>
  RECORDED.map((step) => [step, 'step.succeeded', outcomes[step] ?? 'succeeded']);
const trailOf = (records: AuditRecord[]) => records.map((r) => [r.step, r.event, r.outcome]);

describe('rotation through the deployed function', () => {
  it(
    'rotates 20 times in a row, each time one new well-formed token current, the old one previous and no pending left',
    async () => {
      // Prepare
      const secret = await aws.createSecret('twenty', apiKey(liveToken()));
      const tokens = [tokenIn(await aws.value(secret.arn))];
      const rotations: string[] = [];
      let current = secret.versionId;

      for (let i = 0; i < 20; i++) {
        // Act
        const version = await aws.rotate(secret.arn, rotation);
        const outcome = await aws.settle(secret.arn, version);

        // Assess
        expect(outcome, `rotation ${i + 1}`).toBe('succeeded');
        const stages = await aws.stages(secret.arn);
        expect(holders(stages, STAGE.current), `rotation ${i + 1}`).toEqual([version]);
        expect(holders(stages, STAGE.previous), `rotation ${i + 1}`).toEqual([current]);
        expect(strayPending(stages), `rotation ${i + 1}`).toEqual([]);
        const value = await aws.value(secret.arn);
        const token = tokenIn(value);
        expect(checkToken(token, 'acme_live_'), `rotation ${i + 1}`).toBeUndefined();
        expect(tokens).not.toContain(token);
        expect(withoutToken(value)).toBe(withoutToken(apiKey('')));
        tokens.push(token);
        rotations.push(version);
        current = version;
      }

      const history = await aws.history(secret.arn);
      expect(trailOf(history)).toEqual(rotations.flatMap(() => stepTrail()));
      rotations.forEach((version, i) => {
        const per = RECORDED.length;
        for (const record of history.slice(i * per, i * per + per)) {
          expect(Object.values(record.versions ?? {})).toContain(version);
        }
      });
      expect(await aws.audit.verify(secret.arn)).toMatchObject({ ok: true, total: 40 });
      expect(await aws.alertsSent(secret.arn)).toEqual([]);
    },
    SLOW,
  );

  it('makes at most 8 Secrets Manager calls in a successful rotation, counted at the endpoint', async (context) => {
    // Prepare
    const secret = await aws.createSecret('budget', apiKey(liveToken()));
    const before = aws.secretsManagerCalls(secret.arn);

    // Act
    const version = await aws.rotate(secret.arn, rotation);
    const outcome = await aws.settle(secret.arn, version);
    const after = aws.secretsManagerCalls(secret.arn);

    // Assess
    expect(outcome).toBe('succeeded');
    if (!before || !after) {
      // An external endpoint does not tell us what it was asked; only the emulator counts.
      await context.annotate(
        'API budget not measured: the endpoint at AWS_ENDPOINT_URL cannot count calls per secret',
      );
      return;
    }
    const byOperation = Object.entries(after)
      .filter(([operation]) => operation !== 'RotateSecret')
      .map(([operation, count]) => [operation, count - (before[operation] ?? 0)] as const)
      .filter(([, count]) => count > 0);
    const made = byOperation.reduce((sum, [, count]) => sum + count, 0);
    await context.annotate(
      `Secrets Manager calls in one rotation: ${made} (${byOperation.map(([op, n]) => `${op} ${n}`).join(', ')})`,
    );
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThanOrEqual(8);
  });

  it(
    'is safe when every step runs twice: same end state, one new token',
    async () => {
      // Prepare
      const twice = await aws.deploy('twice', ENTRY.twicePerStep);
      const secret = await aws.createSecret('twice', apiKey(liveToken()));
      const old = await aws.value(secret.arn);

      // Act
      const version = await aws.rotate(secret.arn, twice);
      const outcome = await aws.settle(secret.arn, version);

      // Assess
      expect(outcome).toBe('succeeded');
      const stages = await aws.stages(secret.arn);
      expect(holders(stages, STAGE.current)).toEqual([version]);
      expect(holders(stages, STAGE.previous)).toEqual([secret.versionId]);
      expect(strayPending(stages)).toEqual([]);
      const values = await aws.allValues(secret.arn);
      expect(values).toHaveLength(2);
      expect(values).toContain(old);
      expect(checkToken(tokenIn(await aws.value(secret.arn)), 'acme_live_')).toBeUndefined();
      const history = await aws.history(secret.arn);
      expect(trailOf(history)).toEqual(
        RECORDED.flatMap((step) => [
          [step, 'step.succeeded', 'succeeded'],
          [step, 'step.succeeded', step === 'finishSecret' ? 'skipped' : 'succeeded'],
        ]),
      );
      expect(history[1]?.detail).toMatchObject({ pendingKept: true });
      expect(await aws.audit.verify(secret.arn)).toMatchObject({ ok: true });
      expect(await aws.alertsSent(secret.arn)).toEqual([]);
    },
    SLOW,
  );
});

describe('a failing rotation', () => {
  it(
    'fails at testSecret leaving AWSCURRENT untouched, audited and alerted once across retries; removing the leftover AWSPENDING and rotating again recovers',
    async () => {
      // Prepare: the issuer refuses new tokens
      const outage = await aws.deploy('outage', ENTRY.issuerOutage, {
        ISSUER_OUTAGE: 'HTTP 503 from the issuer',
      });
      const secret = await aws.createSecret('failing', apiKey(liveToken()));
      const live = await aws.value(secret.arn);

      // Act
      const failed = await aws.rotate(secret.arn, outage);
      const outcome = await aws.settle(secret.arn, failed);

      // Assess: the live token still works, the failure is on record, one e-mail
      expect(outcome).toBe('failed');
      expect(await aws.value(secret.arn)).toBe(live);
      const stages = await aws.stages(secret.arn);
      expect(holders(stages, STAGE.current)).toEqual([secret.versionId]);
      expect(strayPending(stages)).toEqual([failed]);
      const failures = (await aws.history(secret.arn)).filter((r) => r.event === 'rotation.failed');
      expect(failures.length).toBeGreaterThanOrEqual(1);
      if (aws.local) {
        // Secrets Manager retried the whole rotation; every attempt is on record.
        expect(failures).toHaveLength(aws.local.secretsManager.rotationAttempts);
      }
      for (const record of failures) {
        expect(record).toMatchObject({
          step: 'testSecret',
          outcome: 'failed',
          versions: { pending: failed, current: secret.versionId },
          detail: { reason: 'issuer-rejected' },
        });
        expect(record.error).toMatch(/refused it: HTTP 503 from the issuer/);
      }
      expect(await aws.alertsSent(secret.arn)).toHaveLength(1);
      const published = aws.published(secret.name);
      if (published) {
        expect(published).toHaveLength(1);
        expect(published[0]?.attributes).toMatchObject({
          event: { StringValue: 'rotation.failed' },
          severity: { StringValue: 'high' },
        });
        expect(published[0]?.message).toContain(failed);
      }
      expect(await aws.audit.verify(secret.arn)).toMatchObject({ ok: true });

      // Act: rotating again while the failed rotation's AWSPENDING is left is refused (AWS's rule)
      const refused = aws.rotate(secret.arn, outage);

      // Assess
      await expect(refused).rejects.toThrow(/previous rotation isn't complete/);

      // Act: the issuer is back; the user removes the leftover AWSPENDING and rotates
      await aws.configure(outage, {});
      await aws.secretsManager.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secret.arn,
          VersionStage: STAGE.pending,
          RemoveFromVersionId: failed,
        }),
      );
      const recovered = await aws.rotate(secret.arn, outage);
      const recovery = await aws.settle(secret.arn, recovered);

      // Assess
      expect(await aws.functionVariables(outage)).not.toHaveProperty('ISSUER_OUTAGE');
      expect(recovery).toBe('succeeded');
      const after = await aws.stages(secret.arn);
      expect(holders(after, STAGE.current)).toEqual([recovered]);
      expect(holders(after, STAGE.previous)).toEqual([secret.versionId]);
      expect(strayPending(after)).toEqual([]);
      const token = tokenIn(await aws.value(secret.arn));
      expect(checkToken(token, 'acme_live_')).toBeUndefined();
      expect(token).not.toBe(tokenIn(live));
      expect(await aws.alertsSent(secret.arn)).toHaveLength(1);
      expect(await aws.audit.verify(secret.arn)).toMatchObject({ ok: true });
    },
    SLOW,
  );

  it(
    'never lets a token reach a log, an audit record, an alert or an error, whether it rotates or fails',
    async () => {
      // Prepare: a distinctive token as AWSCURRENT, functions logging all they can
      const verbose = { POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOGGER_LOG_EVENT: 'true' };
      const outage = await aws.deploy('canary-outage', ENTRY.issuerOutage, {
        ...verbose,
        ISSUER_OUTAGE: 'HTTP 401 from the issuer',
      });
      const rotating = await aws.deploy('canary-rotation', ENTRY.rotation, verbose);
      const canary = `acme_live_CANARY${randomBase62(43)}`;
      const secret = await aws.createSecret('canary', apiKey(canary));

      // Act: a rotation that fails, a person re-running its failing step, then two that succeed
      const failed = await aws.rotate(secret.arn, outage);
      expect(await aws.settle(secret.arn, failed)).toBe('failed');
      const invoked = await aws.invoke(outage, {
        SecretId: secret.arn,
        ClientRequestToken: failed,
        Step: 'testSecret',
      });
      await aws.secretsManager.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secret.arn,
          VersionStage: STAGE.pending,
          RemoveFromVersionId: failed,
        }),
      );
      for (let i = 0; i < 2; i++) {
        const version = await aws.rotate(secret.arn, rotating);
        expect(await aws.settle(secret.arn, version)).toBe('succeeded');
      }

      // Assess: we looked where the tokens would show
      const tokens = (await aws.allValues(secret.arn)).map(tokenIn);
      expect(tokens).toContain(canary);
      expect(new Set(tokens).size).toBe(4); // the canary, the failed rotation's, two new ones
      expect(invoked).toMatchObject({ statusCode: 200, functionError: 'Unhandled' });
      expect(JSON.parse(invoked.payload)).toMatchObject({
        errorType: 'RotationStepFailed',
        errorMessage: expect.stringContaining('refused it: HTTP 401'),
        trace: expect.any(Array),
      });
      expect(invoked.logTail).toContain(failed);
      const stored = JSON.stringify(await aws.storedItems(secret.arn));
      expect(stored).toContain('rotation.failed');
      const haystacks: Record<string, string | undefined> = {
        'the Invoke error': invoked.payload,
        'the Invoke log tail': invoked.logTail,
        'the audit table': stored,
        'the failing function log': aws.functionLog(outage),
        'the rotating function log': aws.functionLog(rotating),
        'the alerts': JSON.stringify(aws.published(secret.name)),
        'the errors Secrets Manager saw': aws.rotationErrors(secret.arn)?.join('\n'),
      };
      if (aws.local) {
        expect(haystacks['the failing function log']).toContain('rotation step failed');
        expect(haystacks['the rotating function log']).toContain('rotation step done');
        expect(aws.published(secret.name)).toHaveLength(1);
        expect(aws.rotationErrors(secret.arn)?.length).toBeGreaterThan(0);
      }
      const needles = [...tokens, canary.slice('acme_live_'.length, 'acme_live_'.length + 20)];
      for (const [where, text] of Object.entries(haystacks)) {
        if (text === undefined) continue; // external mode: not readable through the API
        for (const needle of needles) {
          expect(text.includes(needle), `a token appears in ${where}`).toBe(false);
        }
      }
    },
    SLOW,
  );
});
