// `npm run demo`: the whole lifecycle on a laptop. The real handlers, installed as `cdk deploy`
// installs them (local-aws/suite.ts), on the embedded local AWS with its clock moved forward,
// printed as a timeline. Every stage checks, against the local AWS's own state, that what it
// printed really happened; the last one checks that no token value was printed at all.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE, HEAD_SK, SEQ_PREFIX, secretPk } from '#adapters/audit-table';
import { logger } from '#commons/logger';
import { customKind } from '#domain/kinds/custom/index';
import { iamAccessKeyKind } from '#domain/kinds/iam-access-key/index';
import { randomKind } from '#domain/kinds/random/index';
import { randomIssuer } from '#domain/kinds/random/issuer';
import { DEFAULT_KIND } from '#domain/kinds/registry';
import { createPacer } from '#domain/pacer';
import type { AuditRecord } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import { STAGE, TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { bundleHandler } from '../integration/support/bundle.ts';
import { type SaasServer, startSaasServer } from '../support/saas-server.ts';
import { reportFile, writeEvidenceHtml } from './report.ts';
import { isolationScenes } from './scenes/isolation.ts';
import { leakScanScene } from './scenes/leak-scan.ts';
import { onCallScenes } from './scenes/on-call.ts';
import { scopesScene } from './scenes/scopes.ts';
import { localTime, StageFailed, Timeline } from './stage.ts';

/** What a rotation function calls; the sweep's own listing calls are not the rotation's. */
const ROTATION_OPERATIONS = new Set([
  'DescribeSecret',
  'GetSecretValue',
  'PutSecretValue',
  'UpdateSecretVersionStage',
]);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Where the story starts: a token stored long before anyone opted it in. */
const TOKEN_STORED = '2025-12-01T09:00:00Z';
const INSTALLED = '2026-01-05T09:00:00Z';
const GRACE = '1h';

const PAYMENTS = 'demo/payments-api-key';
const REPORTS = 'demo/reports-api-key';
const CI_KEY = 'demo/ci-deployer-access-key';
const ACME = 'demo/acme-api-key';
const ISSUER_FUNCTION = 'acme-issuer';
const IAM_USER = 'ci-deployer';
const ONCALL = 'oncall@example.com';

/** A fault injected through a real seam, to show that a stage's checks fail when it does not happen. */
export type DemoFault =
  /** The stack's sweep schedule is not connected. */
  | 'no-sweep'
  /** The example issuer is configured with a SaaS key that may not create keys: it refuses to mint. */
  | 'issuer-refuses';

export interface DemoOptions {
  /** Where the timeline goes. Default: stdout. */
  write?: (text: string) => void;
  color?: boolean;
  fault?: DemoFault;
}

export interface DemoResult {
  ok: boolean;
  /** What was expected and did not happen, or the error that stopped the run. */
  failure?: string;
  /** Everything the run printed: the timeline and anything the handlers logged. */
  output: string;
  elapsedMs: number;
}

/** Runs the demo; never throws (a failure is in the result). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const output: string[] = [];
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  const stderrWrite = process.stderr.write.bind(process.stderr);
  const emit = options.write ?? ((text: string) => void stdoutWrite(text));
  // Whatever else reaches stdout or stderr meanwhile (a handler's warning) is kept for the canary.
  const tee =
    (write: typeof stdoutWrite) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      output.push(String(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tee(stdoutWrite) as typeof process.stdout.write;
  process.stderr.write = tee(stderrWrite) as typeof process.stderr.write;
  // The handlers' own INFO lines would drown the timeline; warnings and errors still show.
  logger.setLogLevel('WARN');

  let aws: LocalAws | undefined;
  let saas: SaasServer | undefined;
  const tl = new Timeline({
    write: (text) => {
      output.push(text);
      emit(text);
    },
    now: () => aws?.clock.now() ?? new Date(TOKEN_STORED),
    color: options.color ?? false,
  });
  let failure: string | undefined;
  try {
    aws = await startLocalAws({ clock: TOKEN_STORED });
    saas = await startSaasServer({ now: aws.clock.now });
    await lifecycle(tl, aws, saas, output, options.fault);
  } catch (error) {
    failure =
      error instanceof StageFailed
        ? error.message
        : `stage "${tl.current}" stopped: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await saas?.stop();
    await aws?.stop();
    process.stdout.write = stdoutWrite as typeof process.stdout.write;
    process.stderr.write = stderrWrite as typeof process.stderr.write;
  }
  const elapsedMs = performance.now() - started;
  const last = failure
    ? `\nDemo FAILED: ${failure}\n`
    : `\nDemo complete in ${(elapsedMs / 1000).toFixed(1)} s: every stage happened as shown.\n`;
  output.push(last);
  emit(last);
  return { ok: !failure, ...(failure && { failure }), output: output.join(''), elapsedMs };
}

/** One secret of the story: its name, ARN, and how its kind names a token without its value. */
interface DemoSecret {
  name: string;
  arn: string;
  kind: string;
  /** The version CreateSecret made. */
  versionId: string;
}

async function lifecycle(
  tl: Timeline,
  aws: LocalAws,
  saas: SaasServer,
  output: string[],
  fault: DemoFault | undefined,
): Promise<void> {
  // Bundled before the story starts, so no stage waits on esbuild.
  const issuerBundle = bundleHandler(
    new URL('../../examples/issuer-http/index.ts', import.meta.url),
  );
  const sm = new SecretsManagerClient(aws.clientConfig);
  /** Every secret value the run read or wrote, for the canary check at the end. */
  const values = new Set<string>();
  const secrets: DemoSecret[] = [];
  const everLabelled = new Set<string>();
  let suite: InstalledSuite | undefined;

  const settle = async () => {
    for (let round = 0; round < 3; round++) await aws.idle();
  };
  const describe = (secret: DemoSecret): Promise<DescribeSecretCommandOutput> =>
    sm.send(new DescribeSecretCommand({ SecretId: secret.arn }));
  const tagsOf = (d: DescribeSecretCommandOutput) =>
    Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  const read = async (secret: DemoSecret, select: { versionId?: string; stage?: string } = {}) => {
    const out = await sm.send(
      new GetSecretValueCommand({
        SecretId: secret.arn,
        ...(select.versionId ? { VersionId: select.versionId } : {}),
        ...(select.stage ? { VersionStage: select.stage } : {}),
      }),
    );
    values.add(out.SecretString ?? '');
    return out.SecretString ?? '';
  };
  const nameOf = (secret: DemoSecret, value: string) =>
    suite!.issuerFor(secret.kind, secret).name(value);
  /** Version ID → labels, with each labelled version's token named (never shown). */
  const versions = async (secret: DemoSecret) => {
    const { Versions = [] } = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: secret.arn, IncludeDeprecated: true }),
    );
    const rows: { id: string; stages: string[]; token: string; created: Date }[] = [];
    for (const v of Versions) {
      const stages = v.VersionStages ?? [];
      // A version that never held a label (Secrets Manager's test run on attach) is no token's.
      if (stages.length > 0) everLabelled.add(v.VersionId!);
      if (!everLabelled.has(v.VersionId!)) continue;
      const live = stages.some((s) => s === STAGE.current || s === STAGE.previous);
      const token = live ? nameOf(secret, await read(secret, { versionId: v.VersionId! })) : '';
      rows.push({ id: v.VersionId!, stages, token, created: v.CreatedDate! });
    }
    rows.sort((a, b) => a.created.getTime() - b.created.getTime());
    return rows;
  };
  const showVersions = async (secret: DemoSecret) => {
    const rows = await versions(secret);
    tl.table([
      ['version', 'labels', 'token', 'created'],
      ...rows.map((r) => [
        r.id.slice(0, 8),
        r.stages.join(',') || '(no label)',
        r.token || '-',
        localTime(r.created),
      ]),
    ]);
    return rows;
  };
  const holder = <R extends { stages: string[] }>(rows: R[], stage: string) =>
    rows.find((r) => r.stages.includes(stage));
  const trail = (secret: DemoSecret) => suite!.audit.history(secret.arn);
  const eventsOf = (records: AuditRecord[], event: string) =>
    records.filter((r) => r.event === event);
  const alertsFor = (secret: DemoSecret, event?: string) =>
    aws.sns
      .messagesTo(suite!.topicArn)
      .filter(
        (m) =>
          m.attributes.secret?.StringValue === secret.name &&
          (!event || m.attributes.event?.StringValue === event),
      );
  const tag = async (secret: DemoSecret, tags: Record<string, string>) => {
    await sm.send(
      new TagResourceCommand({
        SecretId: secret.arn,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    await settle();
  };
  const create = async (
    name: string,
    value: string,
    kind = DEFAULT_KIND,
    tags: Record<string, string> = {},
  ): Promise<DemoSecret> => {
    values.add(value);
    const out = await sm.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: value,
        ...(Object.keys(tags).length > 0 && {
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      }),
    );
    const secret = { name, arn: out.ARN!, kind, versionId: out.VersionId! };
    secrets.push(secret);
    await settle();
    return secret;
  };
  const advance = async (ms: number, why: string) => {
    const from = aws.clock.now();
    await aws.clock.advance(ms);
    await settle();
    tl.note(`clock: ${localTime(from)} → ${localTime(aws.clock.now())} (${why})`);
  };
  const attached = (d: DescribeSecretCommandOutput, lifespanMs: number) => {
    const schedule = scheduleFor(lifespanMs);
    return (
      d.RotationEnabled === true &&
      d.RotationLambdaARN === suite!.functions.rotation &&
      d.RotationRules?.ScheduleExpression === schedule.scheduleExpression &&
      d.RotationRules?.Duration === schedule.duration
    );
  };

  // ---- before the install ----

  const seed = randomToken('acme_live_');
  let payments!: DemoSecret;
  await tl.stage(`A team stores an API token in Secrets Manager as ${PAYMENTS}`, async () => {
    payments = await create(
      PAYMENTS,
      randomKind.demo.sampleValue({
        token: seed,
        owner: 'payments-team',
        scopes: ['charges:write'],
      }),
    );
    tl.say('value: {"token": <the token>, "owner": "payments-team", "scopes": ["charges:write"]}');
    tl.say(
      `its token is ${randomIssuer.name(JSON.stringify({ token: seed }))}: not minted by token-rotation, so not named by a fingerprint`,
    );
    const d = await describe(payments);
    tl.check(
      Object.values(d.VersionIdsToStages ?? {}).length === 1 && !d.RotationEnabled,
      'the secret holds one version and no rotation',
    );
  });
  await aws.clock.set(INSTALLED);
  tl.note(`five weeks pass; nobody rotates the token`);

  // ---- install ----

  await tl.stage('Install token-rotation: what `cdk deploy` creates', async () => {
    suite = await installSuite(aws, {
      triggers: fault === 'no-sweep' ? { rules: true, sweep: false } : true,
      // The quota pacing runs on real time; the local clock jumps days in a second of it, and the
      // local AWS does not throttle, so the deployed pacer would only slow the demo down.
      pace: createPacer({ ratePerSecond: 100_000, burst: 1_000 }),
      // The audit anchor: its own function checkpoints every chain head to an Object Lock bucket,
      // on its own schedule at the sweep interval.
      anchor: true,
    });
    const name = (arn: string) => arn.split(':').at(-1);
    tl.say(`endpoint ${aws.endpoint}: Secrets Manager, DynamoDB, SNS, IAM, STS, Lambda`);
    tl.say(`audit table ${suite.tableName}; alert topic ${name(suite.topicArn)}`);
    for (const [role, arn] of Object.entries(suite.functions)) {
      tl.say(`function ${name(arn)}  (${role})`);
    }
    for (const rule of suite.rules) tl.say(`rule ${rule.id} → ${name(rule.target)}`);
    tl.say(`schedule: the sweep every ${suite.sweepIntervalMs / MINUTE} minutes`);
    const sns = suite.sns;
    await sns.send(
      new SubscribeCommand({ TopicArn: suite.topicArn, Protocol: 'email', Endpoint: ONCALL }),
    );
    tl.say(`alert e-mails go to ${ONCALL}`);
    const cloudFormation = new CloudFormationClient(aws.clientConfig);
    const { Stacks = [] } = await cloudFormation.send(
      new DescribeStacksCommand({ StackName: suite.stackName }),
    );
    cloudFormation.destroy();
    const outputs = Object.fromEntries(
      (Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]),
    );
    tl.check(
      outputs.AuditTableName === suite.tableName &&
        outputs.AlertTopicArn === suite.topicArn &&
        outputs.RevokeFunctionName === name(suite.functions.revoke),
      `stack ${suite.stackName} lists the audit table, alert topic and revoke function as outputs`,
    );
    tl.check(
      aws.sns.subscriptions.some((s) => s.topicArn === suite?.topicArn && s.endpoint === ONCALL),
      `${ONCALL} is subscribed to the alert topic`,
    );
  });

  // ---- opt in, overdue, grace ----

  await tl.stage(
    `Opt the token in: tag it ${TAG.lifespan}=7d and ${TAG.grace}=${GRACE}`,
    async () => {
      const taggedAt = aws.clock.now();
      await tag(payments, { [TAG.lifespan]: '7d', [TAG.grace]: GRACE });
      const schedule = scheduleFor(7 * DAY);
      tl.say(
        `the tag event attaches rotation: ${schedule.scheduleExpression}, window ${schedule.duration} (worst-case token age ${schedule.worstCaseAgeMs / HOUR}h ≤ 168h)`,
      );
      const d = await describe(payments);
      tl.check(attached(d, 7 * DAY), 'rotation is attached with the schedule the lifespan implies');
      const attach = eventsOf(await trail(payments), 'rotation.attached')[0];
      tl.check(
        attach?.trigger.source === 'tag' && Date.parse(attach.at) - taggedAt.getTime() < MINUTE,
        `rotation.attached is audited within the minute, triggered by the tag change of ${attach?.trigger.principal ?? 'a principal'}`,
      );
      const rows = await showVersions(payments);
      tl.check(
        holder(rows, STAGE.current)?.id === payments.versionId,
        'the five-week-old token is still live: attaching does not rotate (ages are the sweep’s job)',
      );
    },
  );

  let overdueToken = '';
  await tl.stage(
    'The clock moves on: the next sweep finds the live token past its 7-day lifespan',
    async () => {
      await advance(15 * MINUTE, 'one sweep interval');
      const records = await trail(payments);
      const overdue = eventsOf(records, 'lifespan.overdue')[0];
      tl.check(
        overdue?.trigger.source === 'schedule',
        'the sweep audited lifespan.overdue for the 35-day-old token',
      );
      tl.check(
        alertsFor(payments, 'lifespan.overdue').length === 1,
        'one lifespan.overdue alert was sent',
      );
      const rows = await showVersions(payments);
      const current = holder(rows, STAGE.current);
      const previous = holder(rows, STAGE.previous);
      overdueToken = current?.token ?? '';
      tl.check(
        current && previous && current.token.startsWith('fp:') && current.token !== previous.token,
        'the sweep rotated it: AWSCURRENT holds a new token, AWSPREVIOUS the old one (working through grace)',
      );
      const steps = eventsOf(records, 'step.succeeded').filter(
        (r) => r.outcome === 'succeeded' && Object.values(r.versions ?? {}).includes(current.id),
      );
      tl.check(
        steps.map((r) => r.step).join() === 'createSecret,finishSecret',
        'the rotation audited its new token and its promotion, in order',
      );
      const value = JSON.parse(await read(payments));
      tl.check(
        value.owner === 'payments-team' &&
          value.scopes?.[0] === 'charges:write' &&
          String(value.token).startsWith('acme_live_'),
        'the new token keeps the acme_live_ prefix; owner and scopes are carried over',
      );
      const checksum = await randomIssuer
        .verify({
          secretArn: payments.arn,
          secretName: payments.name,
          versionId: current.id,
          pending: JSON.stringify(value),
        })
        .then(
          () => true,
          () => false,
        );
      tl.check(checksum, 'the new token ends in a valid checksum (secret scanners can spot it)');
    },
  );

  await tl.stage(`Grace (${GRACE}) runs out: the sweep revokes the previous token`, async () => {
    await advance(75 * MINUTE, `grace ${GRACE} plus one sweep interval`);
    const rows = await showVersions(payments);
    tl.check(
      !holder(rows, STAGE.previous) && holder(rows, STAGE.current)?.token === overdueToken,
      'no version holds AWSPREVIOUS any more; the new token is still live',
    );
    const staged = await Promise.all(
      rows.filter((r) => r.stages.length > 0).map((r) => read(payments, { versionId: r.id })),
    );
    tl.check(
      staged.every((v) => !v.includes(seed)),
      'no labelled version holds the old token (revoked, for a random token)',
    );
    const revoked = eventsOf(await trail(payments), 'previous.revoked')[0];
    tl.check(
      revoked?.outcome === 'succeeded' && revoked.trigger.source === 'schedule',
      'previous.revoked is audited, triggered by the sweep',
    );
  });

  await tl.stage(
    'A week on: Secrets Manager rotates it on its schedule, within the lifespan',
    async () => {
      const before = await versions(payments);
      const since = holder(before, STAGE.current)!.created;
      const d = await describe(payments);
      // NextRotationDate is when the window closes: the rotation happens at some moment in it.
      const due = d.NextRotationDate!;
      tl.say(
        `Secrets Manager's next rotation window (${d.RotationRules?.Duration}) closes ${localTime(due)}`,
      );
      const callsBefore = aws.secretsManager.calls.records.length;
      await advance(due.getTime() + MINUTE - aws.clock.now().getTime(), 'to the window’s close');
      const rows = await showVersions(payments);
      const current = holder(rows, STAGE.current)!;
      // The rotation function's calls for this secret, as Secrets Manager's endpoint counted them:
      // those at the rotation's moment (its new version's creation), not the next sweep's read of
      // the new version for the token index (SPEC "Environment isolation").
      const rotationCalls = aws.secretsManager.calls.records
        .slice(callsBefore)
        .filter(
          (c) =>
            c.secret === payments.arn &&
            ROTATION_OPERATIONS.has(c.operation) &&
            c.at.getTime() <= current.created.getTime(),
        );
      tl.check(
        current.token !== overdueToken && holder(rows, STAGE.previous)?.token === overdueToken,
        'the scheduled rotation made a new token live',
      );
      tl.check(
        rotationCalls.length <= 8,
        `the rotation made ${rotationCalls.length} Secrets Manager calls (budget 8; AWS's reference template makes 10)`,
      );
      const age = current.created.getTime() - since.getTime();
      tl.check(
        age < 7 * DAY,
        `the replaced token lived ${(age / HOUR).toFixed(1)}h, under its 168h lifespan`,
      );
      tl.check(
        alertsFor(payments).length === 1 &&
          eventsOf(await trail(payments), 'lifespan.overdue').length === 1,
        'no new alert and no new lifespan.overdue: a rotation on schedule is routine',
      );
    },
  );

  // ---- a bad tag ----

  await tl.stage(`A tag with a bad value: ${TAG.lifespan}=banana on ${REPORTS}`, async () => {
    const reports = await create(REPORTS, JSON.stringify({ token: randomToken('rpt_live_') }));
    const firstVersion = Object.keys((await describe(reports)).VersionIdsToStages ?? {});
    const taggedAt = aws.clock.now();
    await tag(reports, { [TAG.lifespan]: 'banana' });
    const d = await describe(reports);
    const invalid = eventsOf(await trail(reports), 'policy.invalid');
    tl.say(`audited: ${invalid[0]?.error ?? invalid[0]?.detail?.problems ?? '(nothing)'}`);
    tl.check(
      invalid.length === 1 && alertsFor(reports, 'policy.invalid').length === 1,
      'policy.invalid is audited and alerted once',
    );
    tl.check(
      !d.RotationEnabled &&
        JSON.stringify(Object.keys(d.VersionIdsToStages ?? {})) === JSON.stringify(firstVersion) &&
        JSON.stringify(tagsOf(d)) === JSON.stringify({ [TAG.lifespan]: 'banana' }),
      'nothing changed on the secret: no rotation attached, the same single version, only the user’s tag',
    );
    const sweepAt = new Date(
      Math.ceil(aws.clock.now().getTime() / (15 * MINUTE)) * 15 * MINUTE + 15 * MINUTE,
    );
    await advance(sweepAt.getTime() - aws.clock.now().getTime(), 'past the next sweep');
    const listedBySweep = aws.secretsManager.calls.records.some(
      (c) => c.operation === 'ListSecrets' && c.at.getTime() > taggedAt.getTime(),
    );
    tl.check(listedBySweep, 'the next sweep ran and listed the opted-in secrets');
    tl.check(
      alertsFor(reports, 'policy.invalid').length === 1 &&
        eventsOf(await trail(reports), 'policy.invalid').length === 1,
      'the sweep did not alert or audit the same bad value again',
    );
  });

  // ---- token kinds ----

  let ciKey!: DemoSecret;
  let oldKey!: { accessKeyId: string; secretAccessKey: string };
  const iamKindTag = iamAccessKeyKind.demo.kindTag()!;
  await tl.stage(
    `An IAM access key (kind ${iamKindTag}) in ${CI_KEY}: rotate now from the console`,
    async () => {
      // An administrator binds the user to the one secret that may hold its keys: the secret's
      // ARN without its random suffix is known before the secret exists.
      const binding = `arn:aws:secretsmanager:${aws.region}:${aws.accountId}:secret:${CI_KEY}`;
      aws.iam.createUser(IAM_USER, '/token-rotation/', { 'token-rotation:secret': binding });
      tl.say(`IAM user ${IAM_USER} tagged token-rotation:secret = ${binding}`);
      oldKey = aws.iam.createAccessKey(IAM_USER);
      ciKey = await create(
        CI_KEY,
        iamAccessKeyKind.demo.sampleValue({ userName: IAM_USER, ...pick(oldKey) }),
        iamKindTag,
        { [TAG.lifespan]: '7d', [TAG.kind]: iamKindTag, [TAG.grace]: GRACE },
      );
      tl.check(
        attached(await describe(ciKey), 7 * DAY),
        'CreateSecret with the tags: the tag event attached rotation',
      );
      await sm.send(new RotateSecretCommand({ SecretId: ciKey.arn }));
      await settle();
      await showVersions(ciKey);
      const current = JSON.parse(await read(ciKey));
      const keys = aws.iam.keysOf(IAM_USER);
      tl.say(
        `IAM keys of ${IAM_USER}: ${keys.map((k) => `${k.accessKeyId} ${k.status}`).join(', ')}`,
      );
      tl.check(
        current.accessKeyId !== oldKey.accessKeyId &&
          keys.find((k) => k.accessKeyId === current.accessKeyId)?.status === 'Active',
        'AWSCURRENT holds a new, active access key',
      );
      const identity = await callerIdentity(aws, current);
      tl.check(
        identity === `arn:aws:iam::${aws.accountId}:user/token-rotation/${IAM_USER}`,
        `STS GetCallerIdentity with the new key answers ${identity ?? 'nothing'}`,
      );
      tl.check(
        (await callerIdentity(aws, oldKey)) !== undefined,
        'the old key still signs in through grace',
      );
    },
  );

  let acme!: DemoSecret;
  let oldSaasToken = '';
  const acmeKindTag = customKind.demo.kindTag(ISSUER_FUNCTION)!;
  await tl.stage(
    `A SaaS API key (kind ${acmeKindTag}) in ${ACME}: rotated by the example issuer`,
    async () => {
      // The example issuer (examples/issuer-http), bundled and deployed as a user deploys it.
      const admin = saas.issueKey('acme', { admin: fault !== 'issuer-refuses' });
      values.add(admin.key);
      const lambda = new LambdaClient(aws.clientConfig);
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: ISSUER_FUNCTION,
          Runtime: 'nodejs22.x',
          Role: aws.iam.createRole(ISSUER_FUNCTION),
          Handler: 'index.handler',
          Timeout: 10,
          Code: { ZipFile: await issuerBundle },
          Environment: { Variables: { SAAS_URL: saas.url, SAAS_ADMIN_KEY: admin.key } },
        }),
      );
      lambda.destroy();
      tl.say(`issuer function ${ISSUER_FUNCTION} deployed; the SaaS stand-in at ${saas.url}`);
      const first = saas.issueKey('acme');
      oldSaasToken = first.key;
      acme = await create(
        ACME,
        customKind.demo.sampleValue({ keyId: first.id, token: first.key, account: 'acme' }),
        acmeKindTag,
        { [TAG.lifespan]: '7d', [TAG.kind]: acmeKindTag, [TAG.grace]: GRACE },
      );
      await sm.send(new RotateSecretCommand({ SecretId: acme.arn }));
      await settle();
      await showVersions(acme);
      const current = JSON.parse(await read(acme));
      tl.check(
        current.keyId !== first.id && saas.accepts(current.token),
        'AWSCURRENT holds a new key that the SaaS accepts',
      );
      tl.check(
        current.account === 'acme' && saas.accepts(first.key),
        'other fields carried over; the old key still works through grace',
      );
    },
  );

  await tl.stage(
    'Grace runs out: the sweep revokes the old SaaS key, and holds the IAM key a consumer still uses',
    async () => {
      await advance(30 * MINUTE, 'a CI job that never re-read the secret keeps deploying');
      tl.check(
        (await callerIdentity(aws, oldKey)) !== undefined,
        'the CI job signs in with the old IAM key, after the rotation replaced it',
      );
      await advance(45 * MINUTE, `grace ${GRACE} plus one sweep interval`);
      tl.check(
        !saas.accepts(oldSaasToken) && saas.accepts(JSON.parse(await read(acme)).token),
        'nobody used the old SaaS key since the rotation: revoked; the live one still works',
      );
      const revoked = eventsOf(await trail(acme), 'previous.revoked')[0];
      tl.check(revoked?.outcome === 'succeeded', `previous.revoked is audited for ${acme.name}`);
      const keys = aws.iam.keysOf(IAM_USER);
      tl.say(
        `IAM keys of ${IAM_USER}: ${keys.map((k) => `${k.accessKeyId} ${k.status}`).join(', ')}`,
      );
      const labels = (await versions(ciKey)).flatMap((r) => r.stages);
      tl.say(
        `the old key's version is labelled ${labels.find((l) => l.includes('grace-extended')) ?? '-'}`,
      );
      tl.check(
        keys.find((k) => k.accessKeyId === oldKey.accessKeyId)?.status === 'Active',
        'IAM saw the old key used since the rotation: its grace is extended once, not revoked yet',
      );
      const warned = alertsFor(ciKey, 'previous.still-used');
      tl.check(
        warned.length === 1 && (warned[0]?.message.includes('sts in') ?? false),
        'previous.still-used is e-mailed before the key dies, naming the service that used it',
      );
    },
  );

  await tl.stage('The extension ends: the old IAM key is revoked anyway', async () => {
    await advance(HOUR + 15 * MINUTE, 'one more grace period plus one sweep interval');
    const keys = aws.iam.keysOf(IAM_USER);
    tl.say(
      `IAM keys of ${IAM_USER}: ${keys.map((k) => `${k.accessKeyId} ${k.status}`).join(', ')}`,
    );
    tl.check(
      keys.find((k) => k.accessKeyId === oldKey.accessKeyId)?.status === 'Inactive' &&
        (await callerIdentity(aws, oldKey)) === undefined,
      'the old IAM key is deactivated: STS refuses it (security wins at the bound)',
    );
    const labels = (await versions(ciKey)).flatMap((r) => r.stages);
    tl.say(`its version is labelled ${labels.find((l) => l.includes('delete-after')) ?? '-'}`);
    const current = JSON.parse(await read(ciKey));
    tl.check((await callerIdentity(aws, current)) !== undefined, 'the live IAM key still signs in');
    const revoked = eventsOf(await trail(ciKey), 'previous.revoked')[0];
    tl.check(revoked?.outcome === 'succeeded', `previous.revoked is audited for ${ciKey.name}`);
    tl.check(
      alertsFor(ciKey, 'previous.still-used').length === 2,
      'a second previous.still-used e-mail says the key was revoked although still used',
    );
  });

  // ---- emergency revoke ----

  await tl.stage(
    `Emergency revoke from the console: tag ${PAYMENTS} with ${TAG.revoke}=<reason>`,
    async () => {
      const before = await versions(payments);
      const live = await Promise.all(
        before.filter((r) => r.stages.length > 0).map((r) => read(payments, { versionId: r.id })),
      );
      const reason = 'token pasted in the #payments Slack channel';
      await tag(payments, { [TAG.revoke]: reason });
      const d = await describe(payments);
      const tags = tagsOf(d);
      tl.say(
        `tags now: ${Object.entries(tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
      );
      tl.check(
        tags[TAG.revoke] === undefined && tags[TAG.lastRevoked] === aws.clock.now().toISOString(),
        `the revoke tag is gone and ${TAG.lastRevoked} records the time`,
      );
      const rows = await showVersions(payments);
      const staged = await Promise.all(
        rows.filter((r) => r.stages.length > 0).map((r) => read(payments, { versionId: r.id })),
      );
      const liveTokens = live.map((v) => JSON.parse(v).token as string);
      tl.check(
        holder(rows, STAGE.current) && staged.every((v) => liveTokens.every((t) => !v.includes(t))),
        'a fresh token is live and no labelled version holds any token that was live before',
      );
      const records = await trail(payments);
      const requested = eventsOf(records, 'revoke.requested')[0];
      tl.check(
        requested?.trigger.source === 'tag' &&
          eventsOf(records, 'revoke.completed')[0]?.outcome === 'succeeded',
        `revoke.requested (by ${requested?.trigger.principal ?? '?'}) and revoke.completed are audited`,
      );
      tl.check(
        alertsFor(payments, 'revoke.completed').length === 1,
        'a critical revoke.completed alert was sent',
      );
    },
  );

  // ---- what people read ----

  await leakScanScene(tl, {
    aws,
    suite: suite!,
    remember: (v) => values.add(v),
    settle,
    advance,
    track: (s) => secrets.push({ ...s, kind: DEFAULT_KIND }),
  });
  await onCallScenes(tl, { aws, suite: suite!, create, settle, token: randomToken });
  await isolationScenes(tl, {
    aws,
    suite: suite!,
    create: (n, v, k, t) => create(n, v, k, t),
    readCurrent: (s) => read({ ...s, kind: DEFAULT_KIND, versionId: '' }),
    advance,
    kind: DEFAULT_KIND,
  });
  await scopesScene(tl, {
    sm,
    saas,
    kindTag: acmeKindTag,
    grace: GRACE,
    values,
    create,
    read,
    settle,
    alertsFor,
  });

  await tl.stage(`The alert e-mails, as ${ONCALL} reads them`, async () => {
    const messages = aws.sns.messagesTo(suite!.topicArn);
    for (const m of messages) {
      tl.raw(`\n   ── ${localTime(m.at)} ─────────────────────────────────────────`);
      tl.raw(`   Subject: ${m.subject ?? '(none)'}`);
      tl.raw('');
      for (const line of m.message.split('\n')) tl.raw(`   │ ${line}`);
    }
    tl.raw('');
    const sent = (secret: DemoSecret, event: string) => alertsFor(secret, event).length === 1;
    const reports = secrets.find((s) => s.name === REPORTS)!;
    tl.check(
      sent(payments, 'lifespan.overdue') &&
        sent(reports, 'policy.invalid') &&
        sent(payments, 'revoke.completed'),
      `the overdue, policy-invalid and revoke alerts (${messages.length} e-mails in all)`,
    );
    tl.check(
      messages.every((m) => (m.subject?.length ?? 101) <= 100 && m.message.length > 0),
      'every subject fits SNS’s 100 characters and every e-mail has a body',
    );
  });

  await tl.stage('The audit trail, and its hash chains verified', async () => {
    const records = await suite!.audit.between(new Date(TOKEN_STORED), aws.clock.now());
    // Records written in the same instant (one rotation's steps) are listed by secret and chain.
    const shown = records.sort(
      (a, b) =>
        a.at.localeCompare(b.at) || a.secretName.localeCompare(b.secretName) || a.seq - b.seq,
    );
    tl.table([
      ['time', 'secret', 'event', 'outcome', 'trigger'],
      ...shown.map((r) => [
        localTime(new Date(r.at)).slice(4, 20),
        r.secretName,
        r.step ? `${r.event} ${r.step}` : r.event,
        r.outcome,
        r.trigger.principal
          ? `${r.trigger.source} by ${r.trigger.principal.split(':').at(-1)}`
          : r.trigger.source,
      ]),
    ]);
    for (const secret of secrets) {
      const report = await suite!.audit.verify(secret.arn);
      const history = await trail(secret);
      tl.check(
        report.ok && report.verified === history.length && history.length > 0,
        `${secret.name}: all ${history.length} records verify, every link holds`,
      );
    }
    tl.check(
      aws.events.failures.length === 0,
      'every event the rules delivered was handled without error',
    );
  });

  const reports: string[] = [];
  await tl.stage("The auditor's report: token-rotation evidence --html", async () => {
    const file = reportFile('demo-evidence.html');
    const report = await writeEvidenceHtml(aws, TOKEN_STORED, file);
    reports.push(report.html);
    tl.say(
      `wrote ${file} (${Math.round(report.html.length / 1024)} KB, no script, no network): open it in a browser`,
    );
    tl.check(
      report.code === 0 &&
        report.html.includes('id="chains" class="ok"') &&
        report.html.includes('id="checkpoints" class="ok"'),
      'every chain verifies in full and reaches its last checkpoint',
    );
    tl.check(
      report.html.includes(`<td>${PAYMENTS}</td><td>completed</td>`),
      'it lists the emergency revoke with who asked, why and what was revoked',
    );
    tl.check(
      (report.html.match(/<section class="secret"/g) ?? []).length === secrets.length,
      `it draws a token timeline for each of the ${secrets.length} secrets`,
    );
  });

  // ---- the canary ----

  await tl.stage(
    `Someone with write access to the audit table cuts the newest records of ${PAYMENTS}`,
    async () => {
      // Records written since the last checkpoint could be cut unseen: the anchor runs first.
      await advance(
        15 * MINUTE,
        'the audit anchor checkpoints every chain head to the locked bucket',
      );
      const pk = secretPk(payments.arn);
      const { Items = [] } = await suite!.dynamo.send(
        new QueryCommand({
          TableName: suite!.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :seq)',
          ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey, '#sk': AUDIT_TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': pk, ':seq': SEQ_PREFIX },
          ScanIndexForward: false,
        }),
      );
      const [newest, second, kept] = Items;
      for (const item of [newest!, second!]) {
        await suite!.dynamo.send(
          new DeleteCommand({
            TableName: suite!.tableName,
            Key: { [AUDIT_TABLE.partitionKey]: pk, [AUDIT_TABLE.sortKey]: item.sk },
          }),
        );
      }
      // ... and moves the chain's HEAD item back, so the table alone shows nothing missing.
      await suite!.dynamo.send(
        new PutCommand({
          TableName: suite!.tableName,
          Item: {
            [AUDIT_TABLE.partitionKey]: pk,
            [AUDIT_TABLE.sortKey]: HEAD_SK,
            seq: kept!.seq,
            hash: kept!.hash,
            at: kept!.at,
          },
        }),
      );
      tl.say(
        `records ${second!.seq} and ${newest!.seq} deleted, the HEAD item set to record ${kept!.seq}`,
      );
      const alone = await suite!.audit.verify(payments.arn);
      tl.check(alone.ok, 'the chain alone still verifies: nothing in the table shows the cut');
      await advance(15 * MINUTE, 'the next interval: the audit anchor writes a checkpoint');
      const caught = alertsFor(payments, 'audit.chain-regressed');
      for (const m of caught) {
        tl.raw(`   Subject: ${m.subject ?? '(none)'}`);
        for (const line of m.message.split('\n').slice(2, 3)) tl.raw(`   │ ${line}`);
      }
      tl.check(
        caught.length === 1 && (caught[0]?.message.includes(`record ${newest!.seq}`) ?? false),
        'the checkpoint written before the cut still names the lost head: audit.chain-regressed is e-mailed',
      );
      const after = await writeEvidenceHtml(
        aws,
        TOKEN_STORED,
        reportFile('demo-evidence-after-cut.html'),
      );
      reports.push(after.html);
      tl.check(
        after.code === 1 && after.html.includes(`${PAYMENTS} (broken)`),
        "the auditor's report written now marks the chain as broken (demo-evidence-after-cut.html), and evidence exits 1",
      );
    },
  );

  await tl.stage('No token value was printed', async () => {
    for (const secret of secrets) {
      const { Versions = [] } = await sm.send(
        new ListSecretVersionIdsCommand({ SecretId: secret.arn, IncludeDeprecated: true }),
      );
      for (const v of Versions) {
        await read(secret, { versionId: v.VersionId! }).catch(() => '');
      }
    }
    for (const key of aws.iam.keysOf(IAM_USER)) values.add(key.secretAccessKey);
    values.add(oldKey.secretAccessKey);
    for (const key of saas.keysOf('acme')) values.add(key.key);
    const tokens = [...values].flatMap(tokensIn);
    // The report page too: it is what an auditor takes away.
    const printed = output.join('') + reports.join('');
    const leaked = tokens.filter((t) => printed.includes(t) || printed.includes(middle(t)));
    tl.check(
      tokens.length >= 10 && leaked.length === 0,
      `none of the ${tokens.length} token values this run created or read appears in the output or the report`,
    );
  });
  sm.destroy();
}

// ---- helpers ----

const pick = (key: { accessKeyId: string; secretAccessKey: string }) => ({
  accessKeyId: key.accessKeyId,
  secretAccessKey: key.secretAccessKey,
});

/** The IAM identity a key signs in as, or undefined when STS refuses it. */
async function callerIdentity(
  aws: LocalAws,
  key: { accessKeyId: string; secretAccessKey: string },
): Promise<string | undefined> {
  const sts = new STSClient({ ...aws.clientConfig, credentials: pick(key), maxAttempts: 1 });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

/** A token of the `random` kind's shape for a secret the demo makes. */
function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('hex');
}

/** The token-bearing strings of a secret value: its token fields, or the value itself. */
function tokensIn(value: string): string[] {
  if (value.length < 16) return [];
  try {
    const parsed = JSON.parse(value) as Record<string, unknown>;
    if (typeof parsed === 'object' && parsed !== null) {
      return ['token', 'secretAccessKey', 'key']
        .map((field) => parsed[field])
        .filter((v): v is string => typeof v === 'string' && v.length >= 16);
    }
  } catch {
    // a bare token
  }
  return [value];
}

/** A stretch from inside a token: a printed fragment is a leak too. */
const middle = (token: string) =>
  token.slice(Math.floor(token.length / 4), Math.floor(token.length / 4) + 16);

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // The SDK warns that it will need Node 22 from 2027; the Lambdas run on nodejs22.x already.
  process.removeAllListeners('warning');
  const result = await runDemo({ color: process.stdout.isTTY });
  process.exit(result.ok ? 0 : 1);
}
