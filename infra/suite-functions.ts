// The suite's shared function settings: every function has its own role (no managed policies),
// its own log group encrypted with the audit key, the handler environment, tracing, a dead-letter
// queue when invoked asynchronously, and Errors/Throttles alarms. One instance is shared by the
// sub-constructs, which create their functions through it. The code is the bundle the installed
// package ships (built by infra/build-package.ts with bundlingOptions()), or, in this repository,
// a NodejsFunction that esbuild bundles at synth with the same options.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { Alerting } from './alerting.ts';
import { bundleBuildOptions } from './bundle-settings.ts';
import { addDeadLetterQueue } from './dead-letters.ts';
import { consoleUrl, output } from './support.ts';

// infra/ sits next to lambdas/ and package.json: resolve from this file, not the cwd, so the
// construct bundles the same code whichever CDK app (and working directory) uses it.
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where the installed package keeps each function's pre-bundled code, `<bundle name>/index.mjs`:
 * beside the compiled construct. This repository has no such directory next to infra/, so here the
 * functions are NodejsFunctions bundled at synth.
 */
const SHIPPED_BUNDLES = fileURLToPath(new URL('./functions/', import.meta.url));

/** The directory name of a handler's bundle: `rotation.ts` is shipped as `functions/rotation/`. */
export function bundleName(entry: string): string {
  return path.basename(entry, '.ts');
}

/** Rebuilds a bundle split into chunks, after NodejsFunction's single-file build. */
const SPLIT_BUNDLE = path.join(projectRoot, 'infra', 'split-bundle.mjs');

export interface FunctionSpec {
  /** File under lambdas/handlers/ that exports `handler`. */
  entry: string;
  description: string;
  timeout: Duration;
  memorySize: number;
  reservedConcurrency?: number;
  /** What the alarm e-mails tell a person to do. */
  runbook: string;
  /**
   * For a function invoked asynchronously: what its dead-letter queue `<id>DeadLetters` holds
   * and how to replay it. EventBridge targets of the function use the same queue.
   */
  deadLetters?: string;
}

export interface SuiteFunctionsProps {
  /** The handler environment every function gets. */
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  /** Encrypts the log groups (kept after `cdk destroy`, as the log groups are). */
  logKey: kms.IKey;
  alerting: Alerting;
}

/** Creates the suite's functions with the shared settings, and keeps what they share. */
export class SuiteFunctions {
  /** Every function role: the tag-event handler ignores tag changes these make. */
  readonly roles: iam.IRole[] = [];
  /** Every alarm, in the order the dashboard lists them. */
  readonly alarms: cloudwatch.IAlarm[] = [];
  /** One invocations/errors/throttles graph per function. */
  readonly healthWidgets: cloudwatch.IWidget[] = [];
  /** Each asynchronously invoked function's dead-letter queue, shared with its event targets. */
  private readonly deadLetterQueues = new Map<lambda.IFunction, sqs.IQueue>();

  constructor(private readonly props: SuiteFunctionsProps) {}

  /** The dead-letter queue of `fn` (for its EventBridge targets), if it has one. */
  deadLettersOf(fn: lambda.IFunction): sqs.IQueue | undefined {
    return this.deadLetterQueues.get(fn);
  }

  /** Alarms `alarm` to the alert topic and lists it on the dashboard. */
  addAlarm(alarm: cloudwatch.Alarm): void {
    alarm.addAlarmAction(this.props.alerting.alarmAction);
    this.alarms.push(alarm);
  }

  /** A function `id` in `scope`, with its log group, role, dead letters, alarms and output. */
  add(scope: Construct, id: string, spec: FunctionSpec): lambda.Function {
    const { alerting } = this.props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: this.props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
      // The audit key is kept after cdk destroy, as the log groups are, so they stay readable.
      encryptionKey: this.props.logKey,
    });
    const role = this.createRole(scope, id, logGroup);
    const deadLetters =
      spec.deadLetters === undefined
        ? undefined
        : addDeadLetterQueue(scope, id, {
            key: alerting.key,
            alarmName: alerting.alarmName(`${id}-dead-letters`),
            alarmAction: alerting.alarmAction,
            description: spec.deadLetters,
          });
    if (deadLetters) {
      this.alarms.push(deadLetters.alarm);
      alerting.grantDeadLetterKey(role);
    }

    const settings = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: spec.description,
      timeout: spec.timeout,
      memorySize: spec.memorySize,
      reservedConcurrentExecutions: spec.reservedConcurrency,
      deadLetterQueue: deadLetters?.queue,
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: this.props.environment,
    };
    const shipped = path.join(SHIPPED_BUNDLES, bundleName(spec.entry));
    const fn = existsSync(path.join(shipped, 'index.mjs'))
      ? new lambda.Function(scope, id, {
          ...settings,
          code: lambda.Code.fromAsset(shipped),
          handler: 'index.handler',
        })
      : new nodejs.NodejsFunction(scope, id, {
          ...settings,
          entry: path.join(projectRoot, 'lambdas', 'handlers', spec.entry),
          handler: 'handler',
          projectRoot,
          depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
          bundling: bundlingOptions(),
        });
    acknowledgeFunction(fn, role);
    if (deadLetters) this.deadLetterQueues.set(fn, deadLetters.queue);
    this.addHealth(scope, id, fn, spec.runbook);
    output(
      scope,
      `${id}FunctionConsole`,
      consoleUrl(`lambda/home?region=${Aws.REGION}#/functions/${fn.functionName}`),
      `${id} function in the Lambda console`,
    );
    return fn;
  }

  private createRole(scope: Construct, id: string, logGroup: logs.ILogGroup): iam.Role {
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `token-rotation ${id} function`,
    });
    this.roles.push(role);
    // The log group exists before the function, so CreateLogGroup is not needed.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: `The ${id} function's least privilege, one to one with its role and deleted with it; a managed policy could be attached elsewhere. Its statements are asserted action by action in test/infra.`,
    });
    return role;
  }

  /** Errors and Throttles alarms, and the function's graph on the dashboard. */
  private addHealth(scope: Construct, id: string, fn: lambda.Function, runbook: string): void {
    const period = Duration.minutes(5);
    const alerting = this.props.alerting;
    const errors = new cloudwatch.Alarm(scope, `${id}ErrorsAlarm`, {
      alarmName: alerting.alarmName(`${id}-errors`),
      alarmDescription: `The ${id} function failed at least once in 5 minutes. ${runbook}`,
      metric: fn.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const throttles = new cloudwatch.Alarm(scope, `${id}ThrottlesAlarm`, {
      alarmName: alerting.alarmName(`${id}-throttles`),
      alarmDescription: `The ${id} function was throttled in the last 5 minutes: its concurrency (or the account's) is exhausted, so work is delayed or lost. Raise the concurrency or the account quota.`,
      metric: fn.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.addAlarm(errors);
    this.addAlarm(throttles);
    this.healthWidgets.push(
      new cloudwatch.GraphWidget({
        title: `${id}: invocations, errors, throttles`,
        left: [
          fn.metricInvocations({ statistic: 'Sum' }),
          fn.metricErrors({ statistic: 'Sum' }),
          fn.metricThrottles({ statistic: 'Sum' }),
        ],
        width: 12,
      }),
    );
  }
}

/** The acknowledgements every suite function shares. */
function acknowledgeFunction(fn: lambda.Function, role: iam.Role): void {
  // X-Ray has no resource-level permissions: PutTraceSegments needs Resource "*".
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*".',
  });
  // Node.js 22 is the runtime this suite is built and tested on (package engines, bundle target).
  for (const rule of ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion']) {
    Validations.of(fn).acknowledge({
      id: rule,
      reason:
        'nodejs22.x is the runtime the suite is built, bundled (target node22) and tested for; moving to a newer runtime is a tested change, not a default.',
    });
  }
  Validations.of(fn).acknowledge({
    id: 'NIST.800.53.R5-LambdaInsideVPC',
    reason:
      "The function calls only AWS APIs (Secrets Manager, DynamoDB, SNS, KMS, IAM, Lambda, X-Ray, S3) and the token issuers' public HTTPS APIs; there is nothing in a VPC to reach, and a VPC would need a NAT gateway or an endpoint per service for the same TLS calls. IAM policies scope what it may do.",
  });
}

/**
 * How NodejsFunction bundles every function: the settings of infra/bundle-settings.ts (ESM,
 * node22, minified, the Lambda credential chain, a map per file), then, since NodejsFunction
 * always writes one file, an afterBundling hook that rebuilds the bundle split into chunks
 * (infra/split-bundle.mjs, entry read from the first build's metafile).
 */
export function bundlingOptions(): nodejs.BundlingOptions {
  requireLocalEsbuild();
  const settings = bundleBuildOptions('', '');
  const split = { ...settings, entryPoints: undefined, outdir: undefined, plugins: undefined };
  const encoded = Buffer.from(JSON.stringify(split)).toString('base64');
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  return {
    format: nodejs.OutputFormat.ESM,
    target: settings.target as string,
    mainFields: settings.mainFields,
    banner: settings.banner?.js,
    minify: settings.minify,
    // A map in the asset, to read a stack trace by; not applied at run time (README, cold starts).
    sourceMap: true,
    sourcesContent: false,
    // Ship the SDK version the suite is tested with, not whatever the runtime carries.
    bundleAwsSDK: true,
    esbuildArgs: Object.fromEntries(
      Object.entries(settings.alias ?? {}).map(([from, to]) => [`--alias:${from}`, to]),
    ),
    metafile: true,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir, outputDir) => [
        [process.execPath, SPLIT_BUNDLE, inputDir, outputDir, encoded].map(quote).join(' '),
      ],
    },
    forceDockerBundling: false,
    logLevel: nodejs.LogLevel.ERROR,
  };
}

/**
 * NodejsFunction falls back to Docker when it cannot find esbuild. We never want that (no Docker
 * on CI, and a different esbuild would ship a different bundle), so fail with the fix instead.
 */
function requireLocalEsbuild(): void {
  try {
    createRequire(import.meta.url).resolve('esbuild');
  } catch {
    throw new Error(
      'esbuild is not installed: run `npm ci` in the token-rotation project (functions are bundled with the local esbuild, never with Docker)',
    );
  }
}
