// The deployed bundles work (issue 3): each function is loaded from the synthesized cloud
// assembly (not the TypeScript source), created on the embedded local AWS with the handler,
// runtime, timeout and environment the template gives it, and run through what a user does.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  GetAutomationExecutionCommand,
  SSMClient,
  StartAutomationExecutionCommand,
} from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamodb-audit-log';
import { checkToken, randomBase62 } from '#domain/tokens';
import { STAGE, TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type AutomationContent, SsmAutomation } from '#local-aws/ssm-automation';
import { loadedAtStart } from '../integration/support/bundle.ts';
import {
  type DeployedFunction,
  deployFunctions,
  environmentOf,
  scheduledInput,
  TemplateResolver,
  templateFunctions,
  type WiredRule,
  wireRules,
} from './local-stack.ts';
import { type Json, synthApp } from './support.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SLOW = 120_000;
/** Lambda's cold start parses the whole bundle; the CDK library alone would be tens of MB. */
const MAX_BUNDLE_BYTES = 2 * 1024 * 1024;
/** Issue 16: the handler module and the chunks it imports statically, what every cold start reads. */
const MAX_LOADED_AT_START_BYTES = 450 * 1024;

let template: Json;
let stackName: string;
let local: LocalAws;
let resolver: TemplateResolver;
let deployed: DeployedFunction[];
let rules: WiredRule[];
let eventsLost = false;
let secretsManager: SecretsManagerClient;
let lambda: LambdaClient;
let audit: DynamoAuditLog;
const measured: string[] = [];

beforeAll(async () => {
  const started = performance.now();
  const synth = synthApp({}, { bundle: true });
  const assembly = synth.app.synth();
  measured.push(`synth with bundling ${Math.round(performance.now() - started)} ms`);
  template = synth.template.toJSON();
  stackName = synth.stack.stackName;

  local = await startLocalAws();
  resolver = new TemplateResolver(local, template, stackName);
  const functions = templateFunctions(template, assembly.directory, projectRoot);
  deployed = await deployFunctions(local, functions, resolver);
  rules = wireRules(local, template, deployed, () => eventsLost);

  secretsManager = new SecretsManagerClient(local.clientConfig);
  lambda = new LambdaClient(local.clientConfig);
  const [tableName] = [...resolver.tables.values()];
  audit = new DynamoAuditLog({
    client: DynamoDBDocumentClient.from(new DynamoDBClient(local.clientConfig), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName: tableName!,
  });
});

afterAll(async () => {
  await local?.stop();
  if (measured.length > 0) console.info(`bundles.test: ${measured.join('; ')}`);
});

const byEntry = (entry: string) => deployed.filter((fn) => fn.entry === entry);
const only = (entry: string) => {
  const found = byEntry(entry);
  if (found.length !== 1) {
    throw new Error(
      `expected one function bundling ${entry} in the template, found ${found.length}`,
    );
  }
  return found[0]!;
};
const topicArn = () => [...resolver.topics.values()][0]!;

async function invoke(fn: DeployedFunction, event: unknown) {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: fn.arn, Payload: Buffer.from(JSON.stringify(event)) }),
  );
  const payload = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'));
  if (out.FunctionError) {
    throw new Error(
      `${fn.logicalId} failed: ${payload?.errorType}: ${payload?.errorMessage}\n${logOf(fn)}`,
    );
  }
  return payload;
}

const logOf = (fn: DeployedFunction) =>
  local.lambda
    .logsOf(fn.arn)
    .map((line) => line.text)
    .join('');

/**
 * Waits until nothing is in flight: an event's delivery can start a rotation (an attach tests
 * it) after the emulator's own idle() has looked at rotations, so look again until none runs.
 */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round++) {
    await local.idle();
    if (!local.secretsManager.rotations.some((r) => r.outcome === 'running')) return;
  }
  throw new Error('the local AWS is still rotating after 10 rounds of waiting');
}

async function createSecret(label: string, value: string, tags: Record<string, string> = {}) {
  const out = await secretsManager.send(
    new CreateSecretCommand({
      Name: `bundles/${label}-${randomUUID().slice(0, 8)}`,
      SecretString: value,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  await settle();
  return { arn: out.ARN!, name: out.Name!, versionId: out.VersionId! };
}

/** Runs `work` as if no CloudTrail trail were configured: its tag events never arrive. */
async function withEventsLost<T>(work: () => Promise<T>): Promise<T> {
  eventsLost = true;
  try {
    const result = await work();
    await settle();
    return result;
  } finally {
    eventsLost = false;
  }
}

const describeSecret = (arn: string) =>
  secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
const holders = (stages: Record<string, string[]>, stage: string) =>
  Object.keys(stages).filter((id) => stages[id]!.includes(stage));

// ---- scenarios: what a user notices of each function, by the handler its bundle holds ----

type Scenario = (fn: DeployedFunction, context: TestContext) => Promise<void>;

const SCENARIOS: Record<string, { what: string; required: boolean; run: Scenario }> = {
  'lambdas/handlers/rotation.ts': {
    what: 'rotates a tagged secret end to end through RotateSecret in at most 8 Secrets Manager calls',
    required: true,
    run: async (rotation, context) => {
      // Prepare
      const token = `acme_live_${randomBase62(49)}`;
      const value = JSON.stringify({ owner: 'payments-team', token });
      const secret = await createSecret('rotation', value, { [TAG.lifespan]: '7d' });
      const before = local.secretsManager.calls.byOperation({ secret: secret.arn });
      const version = randomUUID();

      // Act
      await secretsManager.send(
        new RotateSecretCommand({
          SecretId: secret.arn,
          RotationLambdaARN: rotation.arn,
          ClientRequestToken: version,
          RotateImmediately: true,
        }),
      );
      await settle();
      const after = local.secretsManager.calls.byOperation({ secret: secret.arn });

      // Assess
      const run = local.secretsManager.rotations.findLast((r) => r.token === version);
      expect(run?.outcome, JSON.stringify(run?.attempts)).toBe('succeeded');
      const stages = (await describeSecret(secret.arn)).VersionIdsToStages ?? {};
      expect(holders(stages, STAGE.current)).toEqual([version]);
      expect(holders(stages, STAGE.previous)).toEqual([secret.versionId]);
      const now = await secretsManager.send(new GetSecretValueCommand({ SecretId: secret.arn }));
      const rotated = JSON.parse(now.SecretString!);
      expect(rotated.owner).toBe('payments-team');
      expect(rotated.token).not.toBe(token);
      expect(checkToken(rotated.token, 'acme_live_')).toBeUndefined();
      const chain = await audit.verify(secret.arn);
      expect(chain.ok).toBe(true);
      const steps = (await audit.history(secret.arn))
        .filter(
          (r) => r.event === 'step.succeeded' && Object.values(r.versions ?? {}).includes(version),
        )
        .map((r) => r.step);
      // The new token and its promotion; the steps that changed nothing write no record.
      expect(steps).toEqual(['createSecret', 'finishSecret']);
      const calls = Object.entries(after)
        .filter(([operation]) => operation !== 'RotateSecret')
        .map(([operation, n]) => [operation, n - (before[operation] ?? 0)] as const)
        .filter(([, n]) => n > 0);
      const total = calls.reduce((sum, [, n]) => sum + n, 0);
      await context.annotate(
        `Secrets Manager calls in one rotation: ${total} (${calls.map(([op, n]) => `${op} ${n}`).join(', ')})`,
      );
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThanOrEqual(8);
      const log = logOf(rotation);
      expect(log).toContain('rotation step done');
      expect(log).not.toContain(token);
      expect(log).not.toContain(rotated.token);
    },
  },

  'lambdas/handlers/secretsmanager-events.ts': {
    what: "turns Secrets Manager's RotationFailed, delivered by the template's rule, into an audit record and an alert",
    required: true,
    run: async (events) => {
      // Prepare: a rotation that fails before any of our code runs (a broken function of its own).
      const broken = local.functions.register(`broken-rotation-${randomUUID().slice(0, 8)}`, () =>
        Promise.reject(new Error('the issuer refused the connection')),
      );
      const secret = await createSecret('rotation-failed', 'legacy-token');
      expect(rules.map((r) => r.target.logicalId)).toContain(events.logicalId);

      // Act
      await secretsManager.send(
        new RotateSecretCommand({ SecretId: secret.arn, RotationLambdaARN: broken }),
      );
      await settle();

      // Assess
      expect(local.events.failures).toEqual([]);
      const delivered = local.events.delivered.filter(
        (e) =>
          e.detail.eventName === 'RotationFailed' &&
          e.detail.additionalEventData?.SecretId === secret.arn,
      );
      expect(delivered).toHaveLength(1);
      const history = await audit.history(secret.arn);
      expect(history.map((r) => r.event)).toEqual(['secretsmanager.rotation.failed']);
      expect(history[0]).toMatchObject({ secretName: secret.name, outcome: 'reported' });
      expect((await audit.verify(secret.arn)).ok).toBe(true);
      const alerts = local.sns
        .messagesTo(topicArn())
        .filter((m) => m.attributes.secret?.StringValue === secret.name);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.attributes.event?.StringValue).toBe('secretsmanager.rotation.failed');
      expect(alerts[0]!.subject).toContain(secret.name);
    },
  },

  'lambdas/handlers/sweep.ts': {
    what: 'attaches rotation to a tagged secret whose tag event never arrived',
    required: false,
    run: async (sweep) => {
      // Prepare
      const rotation = only('lambdas/handlers/rotation.ts');
      const secret = await withEventsLost(() =>
        createSecret('sweep', `acme_live_${randomBase62(49)}`, { [TAG.lifespan]: '30d' }),
      );
      expect((await describeSecret(secret.arn)).RotationEnabled ?? false).toBe(false);
      const input = scheduledInput(template, sweep, new Date()) ?? {};

      // Act
      const summary = await invoke(sweep, input);
      await settle();

      // Assess
      expect(summary.failureCount).toBe(0);
      const described = await describeSecret(secret.arn);
      expect(described.RotationEnabled).toBe(true);
      expect(described.RotationLambdaARN).toBe(rotation.arn);
      expect(described.RotationRules?.ScheduleExpression).toBeTruthy();
      const history = await audit.history(secret.arn);
      expect(history.map((r) => r.event)).toContain('rotation.attached');
      expect((await audit.verify(secret.arn)).ok).toBe(true);
    },
  },

  'lambdas/handlers/audit-anchor.ts': {
    what: 'writes a checkpoint of every chain head to the Object Lock bucket, chained to the last',
    required: true,
    run: async (anchor) => {
      // Prepare: the schedule's own input
      const input = scheduledInput(template, anchor, new Date());
      expect(input, 'the template schedules the checkpoint writer').toBeDefined();

      // Act: two scheduled runs
      const first = await invoke(anchor, input);
      const second = await invoke(anchor, input);

      // Assess: the second read the first back from the bucket and follows it
      expect(first).toEqual({ seq: expect.any(Number), regressions: 0 });
      expect(second).toEqual({ seq: first.seq + 1, regressions: 0 });
    },
  },

  'lambdas/handlers/tag-events.ts': {
    what: "attaches rotation when the lifespan tag is added, through the template's rule",
    required: false,
    run: async (tagEvents) => {
      // Prepare
      const rotation = only('lambdas/handlers/rotation.ts');
      expect(rules.map((r) => r.target.logicalId)).toContain(tagEvents.logicalId);
      const secret = await createSecret('tag-event', `acme_live_${randomBase62(49)}`);
      expect((await describeSecret(secret.arn)).RotationEnabled ?? false).toBe(false);

      // Act
      await secretsManager.send(
        new TagResourceCommand({
          SecretId: secret.arn,
          Tags: [{ Key: TAG.lifespan, Value: '30d' }],
        }),
      );
      await settle();

      // Assess
      expect(local.events.failures).toEqual([]);
      const described = await describeSecret(secret.arn);
      expect(described.RotationEnabled).toBe(true);
      expect(described.RotationLambdaARN).toBe(rotation.arn);
      const attached = (await audit.history(secret.arn)).filter(
        (r) => r.event === 'rotation.attached',
      );
      expect(attached).toHaveLength(1);
      expect(attached[0]!.trigger.source).toBe('tag');
      expect((await audit.verify(secret.arn)).ok).toBe(true);
    },
  },

  'lambdas/handlers/revoke.ts': {
    what: 'replaces the live token at once when a person revokes it from the Lambda console',
    required: false,
    run: async (revoke) => {
      // Prepare
      const secret = await apiKeySecret('revoke');

      // Act
      const outcome = await invoke(revoke, {
        secretId: secret.name,
        reason: 'token pasted in a public channel',
        mode: 'reissue',
      });
      await settle();

      // Assess
      expect(outcome).toMatchObject({
        status: 'completed',
        secretArn: secret.arn,
        mode: 'reissue',
      });
      const fresh = await expectRevokedAndReissued(secret);
      const log = logOf(revoke);
      expect(log).toContain('revoke done');
      expect(log).not.toContain(secret.canary);
      expect(log).not.toContain(fresh);
    },
  },

  'lambdas/handlers/revoke-events.ts': {
    what: "replaces the live token when the revoke tag is added, through the template's rule",
    required: false,
    run: async (revokeEvents) => {
      // Prepare
      expect(rules.map((r) => r.target.logicalId)).toContain(revokeEvents.logicalId);
      const secret = await apiKeySecret('revoke-tag');

      // Act
      await secretsManager.send(
        new TagResourceCommand({
          SecretId: secret.arn,
          Tags: [{ Key: TAG.revoke, Value: 'laptop stolen' }],
        }),
      );
      await settle();

      // Assess
      expect(local.events.failures).toEqual([]);
      await expectRevokedAndReissued(secret);
      expect(logOf(revokeEvents)).not.toContain(secret.canary);
    },
  },
};

/** A tagged secret holding `{owner, token}` with a fresh token; the canary to look for later. */
async function apiKeySecret(label: string) {
  const canary = `acme_live_${randomBase62(49)}`;
  const secret = await createSecret(
    label,
    JSON.stringify({ owner: 'payments-team', token: canary }),
    {
      [TAG.lifespan]: '7d',
    },
  );
  return { ...secret, canary };
}

/**
 * What a person sees after an emergency revoke in reissue mode: a fresh token current, no
 * staged version holding the old one, the trail and the critical alert, the last-revoked tag.
 */
async function expectRevokedAndReissued(secret: { arn: string; name: string; canary: string }) {
  const now = await secretsManager.send(new GetSecretValueCommand({ SecretId: secret.arn }));
  const fresh = JSON.parse(now.SecretString!);
  expect(fresh.owner).toBe('payments-team');
  expect(fresh.token).not.toBe(secret.canary);
  expect(checkToken(fresh.token, 'acme_live_')).toBeUndefined();
  const described = await describeSecret(secret.arn);
  for (const versionId of Object.keys(described.VersionIdsToStages ?? {})) {
    const staged = await secretsManager.send(
      new GetSecretValueCommand({ SecretId: secret.arn, VersionId: versionId }),
    );
    expect(staged.SecretString, `version ${versionId}`).not.toContain(secret.canary);
  }
  const tags = Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]));
  expect(tags[TAG.revoke]).toBeUndefined();
  expect(tags[TAG.lastRevoked]).toBeTruthy();
  const revokes = (await audit.history(secret.arn))
    .filter((r) => r.event.startsWith('revoke.'))
    .map((r) => `${r.event}:${r.outcome}`);
  expect(revokes).toEqual(['revoke.requested:started', 'revoke.completed:succeeded']);
  expect((await audit.verify(secret.arn)).ok).toBe(true);
  // Revoke alerts only: attaching rotation (the tag event) runs Secrets Manager's test of the
  // configuration, which on the local AWS alerts a rotation.failed of its own.
  const alerts = local.sns
    .messagesTo(topicArn())
    .filter((m) => m.attributes.secret?.StringValue === secret.name)
    .filter((m) => m.attributes.event?.StringValue?.startsWith('revoke.'));
  expect(alerts.map((m) => m.attributes.event?.StringValue)).toEqual(['revoke.completed']);
  expect(alerts[0]!.attributes.severity?.StringValue).toBe('critical');
  return fresh.token as string;
}

/** Throws "no bundle scenario for <logical id>" for a function no scenario proves. */
function assertEveryFunctionHasScenario(
  functions: { logicalId: string; entry: string }[],
  scenarios: Record<string, unknown>,
): void {
  const missing = functions.filter((fn) => !Object.hasOwn(scenarios, fn.entry));
  if (missing.length > 0) {
    throw new Error(
      missing
        .map(
          (fn) =>
            `no bundle scenario for ${fn.logicalId} (its bundle holds ${fn.entry}): add one to test/infra/bundles.test.ts`,
        )
        .join('\n'),
    );
  }
}

/** The SDK clients in every function's start (its audit trail, its secrets, its alerts). */
const EVERY_INVOCATION_CLIENTS = ['client-dynamodb', 'client-secrets-manager', 'client-sns'];
/** The audit anchor never reads a secret: its start holds DynamoDB and SNS only. */
const CLIENTS_AT_START: Record<string, string[]> = {
  'lambdas/handlers/audit-anchor.ts': ['client-dynamodb', 'client-sns'],
};
/** Per handler, the SDK clients loaded on first call (lambdas/adapters/on-first-call.ts). */
const ISSUERS = ['client-iam', 'client-lambda', 'client-sts'];
const LOADED_ON_FIRST_CALL: Record<string, string[]> = {
  'lambdas/handlers/rotation.ts': ISSUERS,
  'lambdas/handlers/tag-events.ts': ISSUERS,
  'lambdas/handlers/sweep.ts': ISSUERS,
  'lambdas/handlers/audit-anchor.ts': ['client-s3'],
  'lambdas/handlers/revoke.ts': [...ISSUERS, 'client-ssm'].sort(),
  'lambdas/handlers/revoke-events.ts': [...ISSUERS, 'client-ssm'].sort(),
  'lambdas/handlers/secretsmanager-events.ts': [],
};

describe('the bundles in the cloud assembly', () => {
  it('are ESM modules opening with the createRequire banner, each with its source map', () => {
    for (const fn of deployed) {
      // Prepare
      const code = readFileSync(path.join(fn.assetDir, fn.handlerFile), 'utf8');
      const map = JSON.parse(readFileSync(path.join(fn.assetDir, `${fn.handlerFile}.map`), 'utf8'));

      // Assess
      expect(fn.handlerFile, fn.logicalId).toBe('index.mjs');
      expect(code, fn.logicalId).toMatch(
        /^import ?\{ ?createRequire as (\w+) ?\} ?from ?['"]node:module['"]; ?const require ?= ?\1\(import\.meta\.url\);/,
      );
      expect(code, fn.logicalId).toMatch(/export ?\{[^}]*\bhandler\b[^}]*\}/);
      expect(code, fn.logicalId).not.toMatch(/\bmodule\.exports\b\s*=/);
      expect(code.trimEnd(), fn.logicalId).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map$/);
      expect(map.version, fn.logicalId).toBe(3);
      expect(map.mappings.length, fn.logicalId).toBeGreaterThan(0);
      // Minified: a few long lines, not one statement per line.
      expect(code.split('\n').length, fn.logicalId).toBeLessThan(code.length / 1000);
      expect(fn.entry, fn.logicalId).toMatch(/^lambdas\/handlers\/[\w-]+\.ts$/);
    }
  });

  it('hold no aws-sdk v2, no test code and no CDK library, and stay small', async (context) => {
    for (const fn of deployed) {
      // Prepare: every file of the asset (the handler module and its chunks)
      const files = readdirSync(fn.assetDir).filter((file) => file.endsWith('.mjs'));
      const sources = files.flatMap((file) =>
        (
          JSON.parse(readFileSync(path.join(fn.assetDir, `${file}.map`), 'utf8'))
            .sources as string[]
        ).map((s) =>
          path.relative(projectRoot, path.resolve(fn.assetDir, s)).split(path.sep).join('/'),
        ),
      );
      const sizeOf = (names: string[]) =>
        names.reduce((sum, file) => sum + statSync(path.join(fn.assetDir, file)).size, 0);
      const atStart = sizeOf(loadedAtStart(fn.assetDir, fn.handlerFile));
      const size = sizeOf(files);
      const line = `${fn.entry} ${(atStart / 1024).toFixed(0)} KiB loaded at start, ${(size / 1024).toFixed(0)} KiB in ${files.length} files`;
      await context.annotate(`${fn.logicalId}: ${line}`);
      measured.push(line);

      // Assess
      for (const file of files) {
        const code = readFileSync(path.join(fn.assetDir, file), 'utf8');
        expect(code, `${fn.logicalId} ${file}`).not.toMatch(
          /(from ?|require\(|import\()["']aws-sdk(\/[^"']*)?["']/,
        );
      }
      const forbidden = sources.filter(
        (s) =>
          s.startsWith('test/') ||
          s.startsWith('infra/') ||
          /node_modules\/(aws-sdk|aws-cdk-lib|aws-cdk|constructs|cdk-nag|esbuild|vitest|dynalite)\//.test(
            s,
          ),
      );
      expect(forbidden, fn.logicalId).toEqual([]);
      expect(sources, fn.logicalId).toContain(fn.entry);
      expect(size, fn.logicalId).toBeLessThan(MAX_BUNDLE_BYTES);
      // Issue 16: what a cold start reads, at most 450 KB.
      expect(atStart, fn.logicalId).toBeLessThanOrEqual(MAX_LOADED_AT_START_BYTES);
    }
  });

  it('load the IAM, STS, Lambda, S3 and Systems Manager clients only when an invocation needs them', () => {
    for (const fn of deployed) {
      // Prepare: the SDK clients among the sources of what Node reads at the start, and of the rest
      const clientsIn = (files: string[]) =>
        new Set(
          files.flatMap((file) =>
            (
              JSON.parse(readFileSync(path.join(fn.assetDir, `${file}.map`), 'utf8'))
                .sources as string[]
            ).flatMap((s) => /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(s)?.[1] ?? []),
          ),
        );
      const start = loadedAtStart(fn.assetDir, fn.handlerFile);
      const all = readdirSync(fn.assetDir).filter((file) => file.endsWith('.mjs'));

      // Assess: every function's start holds only the clients every invocation may use, and the
      // others are chunks of the asset, for the invocations that need them
      expect([...clientsIn(start)].sort(), fn.logicalId).toEqual(
        CLIENTS_AT_START[fn.entry] ?? EVERY_INVOCATION_CLIENTS,
      );
      const later = [...clientsIn(all)].filter((client) => !clientsIn(start).has(client));
      expect(later.sort(), fn.logicalId).toEqual(LOADED_ON_FIRST_CALL[fn.entry]);
    }
  });
});

describe('the functions deployed from the template', () => {
  it('run on the local AWS with the template handler, runtime, timeout, memory and environment', async () => {
    expect(deployed.length).toBeGreaterThanOrEqual(2);
    for (const fn of deployed) {
      // Act
      const { Configuration: config } = await lambda.send(
        new GetFunctionCommand({ FunctionName: fn.arn }),
      );

      // Assess
      expect(config?.Handler, fn.logicalId).toBe(fn.props.Handler);
      expect(config?.Runtime, fn.logicalId).toBe(fn.props.Runtime);
      expect(config?.Timeout, fn.logicalId).toBe(fn.props.Timeout);
      expect(config?.MemorySize, fn.logicalId).toBe(fn.props.MemorySize);
      const variables = config?.Environment?.Variables ?? {};
      expect(Object.keys(variables).sort(), fn.logicalId).toEqual(
        [...Object.keys(fn.props.Environment?.Variables ?? {}), 'AWS_ENDPOINT_URL'].sort(),
      );
      for (const [key, value] of Object.entries(variables)) {
        expect(value, `${fn.logicalId} ${key}`).not.toMatch(/\$\{Token|\[object Object\]/);
      }
      expect(variables.AWS_ENDPOINT_URL).toBe(local.endpoint);
    }
  });

  it('fails naming an environment variable that refers to something it cannot resolve', async () => {
    // Prepare
    const [first] = deployed;
    const logGroup = Object.keys(template.Resources).find(
      (id) => template.Resources[id].Type === 'AWS::Logs::LogGroup',
    );
    const fn = {
      ...first!,
      props: {
        ...first!.props,
        Environment: { Variables: { AUDIT_LOG_GROUP: { 'Fn::GetAtt': [logGroup, 'Arn'] } } },
      },
    };

    // Act
    const resolving = environmentOf(fn, resolver, local.endpoint);

    // Assess
    await expect(resolving).rejects.toThrow(
      `function ${first!.logicalId}: environment variable AUDIT_LOG_GROUP refers to Fn::GetAtt ${logGroup}.Arn (AWS::Logs::LogGroup)`,
    );
  });

  it('has a bundle scenario for every function in the template', () => {
    expect(() => assertEveryFunctionHasScenario(deployed, SCENARIOS)).not.toThrow();
  });

  it('fails with "no bundle scenario for <logical id>" for a function no scenario proves', () => {
    // Prepare
    const functions = [
      ...deployed,
      { logicalId: 'TokenRotationNew1234ABCD', entry: 'lambdas/handlers/new.ts' },
    ];

    // Act, Assess
    expect(() => assertEveryFunctionHasScenario(functions, SCENARIOS)).toThrow(
      'no bundle scenario for TokenRotationNew1234ABCD',
    );
  });

  for (const [entry, scenario] of Object.entries(SCENARIOS)) {
    it(
      `${entry.slice(entry.lastIndexOf('/') + 1, -3)}: ${scenario.what}`,
      async (context) => {
        const functions = byEntry(entry);
        if (functions.length === 0) {
          if (scenario.required) throw new Error(`the template has no function bundling ${entry}`);
          context.skip(`the template has no function bundling ${entry} yet`);
        }
        for (const fn of functions) await scenario.run(fn, context);
      },
      SLOW,
    );
  }
});

/** `value` with every CloudFormation reference in it resolved to the local resources. */
async function resolveDeep(value: Json, where: string): Promise<Json> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveDeep(v, where)));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) {
      return resolver.resolve(value, where);
    }
    const out: Json = {};
    for (const key of keys) out[key] = await resolveDeep(value[key], `${where}.${key}`);
    return out;
  }
  return value;
}

describe('the EmergencyRevoke runbook, run as the template ships it', () => {
  let automation: SsmAutomation;
  let documentName: string;
  /** Whose access key signed a request: Systems Manager records that principal as ExecutedBy. */
  const principals = new Map<string, string>();

  beforeAll(async () => {
    automation = new SsmAutomation({
      region: local.region,
      accountId: local.accountId,
      clock: local.clock,
      lambda: local.lambda,
      principalOf: (caller) =>
        principals.get(caller.accessKeyId) ?? 'arn:aws:iam::000000000000:user/unknown',
    });
    local.addService('ssm', automation.handle);
    const documents = Object.entries(template.Resources as Record<string, Json>).filter(
      ([, r]) => r.Type === 'AWS::SSM::Document',
    );
    expect(documents).toHaveLength(1);
    const [logical, document] = documents[0]!;
    documentName = document.Properties.Name;
    automation.createDocument(
      documentName,
      (await resolveDeep(document.Properties.Content, `document ${logical}`)) as AutomationContent,
    );
  });

  /** A person with their own access key, as IAM and Systems Manager know them. */
  function operator(name: string) {
    const { arn } = local.iam.createUser(name);
    const key = local.iam.createAccessKey(name);
    principals.set(key.accessKeyId, arn);
    const ssm = new SSMClient({
      ...local.clientConfig,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    });
    return { arn, ssm };
  }

  async function runRunbook(ssm: SSMClient, parameters: Record<string, string>): Promise<Json> {
    const started = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: documentName,
        Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
      }),
    );
    await automation.idle();
    await settle();
    const out = await ssm.send(
      new GetAutomationExecutionCommand({ AutomationExecutionId: started.AutomationExecutionId }),
    );
    return out.AutomationExecution;
  }

  it('quarantines a secret, naming the person who ran it as the requester in the audit record and the alert', async () => {
    // Prepare: a reason with quotes, which would break a payload spliced together as text
    const alice = operator('alice');
    const secret = await apiKeySecret('runbook');
    const reason = 'token pasted in "#incident-42"; see {"ticket": 7}';

    // Act
    const execution = await runRunbook(alice.ssm, {
      SecretId: secret.name,
      Reason: reason,
      Mode: 'quarantine',
    });

    // Assess
    expect(execution.FailureMessage).toBeUndefined();
    expect(execution.AutomationExecutionStatus).toBe('Success');
    expect(execution.ExecutedBy).toBe(alice.arn);
    expect(JSON.parse(execution.Outputs['Revoke.Payload'][0])).toMatchObject({
      status: 'completed',
      mode: 'quarantine',
    });
    const current = await secretsManager.send(new GetSecretValueCommand({ SecretId: secret.arn }));
    expect(current.SecretString).not.toContain(secret.canary);
    expect(JSON.parse(current.SecretString!).token).toBeUndefined();
    const revokes = (await audit.history(secret.arn)).filter((r) => r.event.startsWith('revoke.'));
    expect(revokes.map((r) => `${r.event}:${r.outcome}`)).toEqual([
      'revoke.requested:started',
      'revoke.completed:succeeded',
    ]);
    for (const record of revokes) {
      expect(record.trigger).toEqual({ source: 'runbook', principal: alice.arn });
      expect(record.detail?.executionId).toBe(execution.AutomationExecutionId);
    }
    expect(JSON.stringify(revokes[0])).toContain('#incident-42');
    const alerts = local.sns
      .messagesTo(topicArn())
      .filter((m) => m.attributes.secret?.StringValue === secret.name)
      .filter((m) => m.attributes.event?.StringValue === 'revoke.completed');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(`runbook by ${alice.arn}`);
    expect(alerts[0]!.message).not.toContain(secret.canary);
  });

  it('refuses an invoke that claims to be the runbook, or replays a finished execution, and names no one', async () => {
    // Prepare
    const bob = operator('bob');
    const secret = await apiKeySecret('runbook-forged');
    const finished = await runRunbook(bob.ssm, {
      SecretId: `${secret.name}-no-such-secret`,
      Reason: 'typo in the secret name',
    });
    const revoke = only('lambdas/handlers/revoke.ts');
    const mallory = 'arn:aws:iam::123456789012:user/mallory';

    // Act
    const attempts = [
      // A made-up execution, with the requester and the form written by the invoker.
      {
        secretId: secret.name,
        reason: 'leak',
        runbook: { executionId: randomUUID(), executedBy: mallory },
      },
      { runbook: { executionId: randomUUID() } },
      // The execution is real but over: it cannot start another revoke.
      { runbook: { executionId: finished.AutomationExecutionId } },
    ];
    const errors = [];
    for (const event of attempts)
      errors.push(await invoke(revoke, event).catch((e: Error) => e.message));

    // Assess
    expect(finished.AutomationExecutionStatus).toBe('Failed');
    expect(finished.FailureMessage).toMatch(/no such secret/);
    expect(errors[0]).toMatch(/name only its execution/);
    expect(errors[1]).toMatch(/found none; nothing was changed/);
    expect(errors[2]).toMatch(/to be running \(InProgress\), found Failed/);
    const current = await secretsManager.send(new GetSecretValueCommand({ SecretId: secret.arn }));
    expect(JSON.parse(current.SecretString!).token).toBe(secret.canary);
    const history = await audit.history(secret.arn);
    expect(history.filter((r) => r.event.startsWith('revoke.'))).toEqual([]);
    expect(JSON.stringify(history)).not.toContain('mallory');
  });
});
