// Deploys a synthesized template's functions onto the embedded local AWS as CloudFormation would:
// each bundle from the cloud assembly, with the template's handler, runtime, timeout, memory and
// environment, its references resolved to local resources, and its event rules delivering events.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AddPermissionCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { AUDIT_TABLE } from '#adapters/audit-table';
import { createAuditTable } from '#adapters/dynamodb-audit-log';
import type { LocalAws, LocalEvent } from '#local-aws/index';
import { writeZip } from '#local-aws/zip';
import type { Json } from './support.ts';

type Resources = Record<string, { Type: string; Properties?: Json }>;

/** One AWS::Lambda::Function of the template and the bundle the cloud assembly holds for it. */
export interface TemplateFunction {
  logicalId: string;
  props: Json;
  /** `<assembly outdir>/asset.<hash>`: what `cdk deploy` zips and uploads. */
  assetDir: string;
  /** The file the Handler names (`index.mjs` for `index.handler`). */
  handlerFile: string;
  /** The handler module the bundle was built from, e.g. `lambdas/handlers/rotation.ts`. */
  entry: string;
}

/** A template function as deployed on the local AWS. */
export interface DeployedFunction extends TemplateFunction {
  name: string;
  arn: string;
  /** The environment it was created with: the template's, resolved, plus the endpoint. */
  variables: Record<string, string>;
}

/** Every file under `dir`, by its path relative to `dir` (the zip's layout). */
export function filesOf(dir: string, prefix = ''): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) Object.assign(files, filesOf(full, `${prefix}${name}/`));
    else files[`${prefix}${name}`] = readFileSync(full);
  }
  return files;
}

/**
 * The handler module a bundle came from, read from its source map: of the sources under
 * lambdas/handlers/, the one no other of them imports (revoke-events reuses revoke's wiring).
 */
export function entryOf(assetDir: string, handlerFile: string, projectRoot: string): string {
  const mapFile = path.join(assetDir, `${handlerFile}.map`);
  if (!existsSync(mapFile)) {
    throw new Error(`bundle ${assetDir} has no source map ${handlerFile}.map`);
  }
  const map = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[] };
  const handlers = map.sources
    .map((source) => path.relative(projectRoot, path.resolve(assetDir, source)))
    .map((source) => source.split(path.sep).join('/'))
    .filter((source) => source.startsWith('lambdas/handlers/'));
  const imported = (handler: string) => {
    const name = path.basename(handler, '.ts');
    const importer = new RegExp(`from ['"](#handlers/${name}|\\./${name}\\.ts)['"]`);
    return handlers.some(
      (other) =>
        other !== handler && importer.test(readFileSync(path.join(projectRoot, other), 'utf8')),
    );
  };
  const entries = handlers.filter((handler) => !imported(handler));
  if (entries.length !== 1) {
    throw new Error(
      `bundle ${assetDir}: expected one handler module under lambdas/handlers/ that no other imports, found ${entries.length} of ${handlers.join(', ')}`,
    );
  }
  return entries[0]!;
}

/** Every function of the template, each with its bundle's directory in the cloud assembly. */
export function templateFunctions(
  template: Json,
  assemblyDir: string,
  projectRoot: string,
): TemplateFunction[] {
  const resources = template.Resources as Resources;
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => {
      const props = r.Properties ?? {};
      const key = props.Code?.S3Key;
      if (typeof key !== 'string' || !key.endsWith('.zip')) {
        throw new Error(
          `function ${logicalId}: expected Code.S3Key to name a zip asset, found ${JSON.stringify(props.Code)}`,
        );
      }
      const assetDir = path.join(assemblyDir, `asset.${key.slice(0, -'.zip'.length)}`);
      const handler = String(props.Handler ?? '');
      const file = handler.slice(0, handler.lastIndexOf('.'));
      const handlerFile = ['.mjs', '.js', '.cjs']
        .map((ext) => `${file}${ext}`)
        .find((name) => existsSync(path.join(assetDir, name)));
      if (!handlerFile) {
        throw new Error(
          `function ${logicalId}: its Handler ${handler} names no file in ${assetDir} (expected ${file}.mjs)`,
        );
      }
      return {
        logicalId,
        props,
        assetDir,
        handlerFile,
        entry: entryOf(assetDir, handlerFile, projectRoot),
      };
    });
}

/** A name CloudFormation could have given: at most 64 characters, unique per logical ID. */
function physicalName(stackName: string, logicalId: string): string {
  const name = `${stackName}-${logicalId}`;
  if (name.length <= 64) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 55)}-${hash}`;
}

const PSEUDO = [
  'AWS::Region',
  'AWS::AccountId',
  'AWS::Partition',
  'AWS::StackName',
  'AWS::URLSuffix',
];

/**
 * Resolves the template's intrinsic functions to local resources, creating the audit table and
 * the alert topic when first referred to. Anything it cannot resolve throws, naming `where`.
 */
export class TemplateResolver {
  readonly tables = new Map<string, string>();
  readonly topics = new Map<string, string>();
  private readonly created = new Map<string, Promise<string>>();
  private readonly resources: Resources;

  constructor(
    private readonly local: LocalAws,
    template: Json,
    readonly stackName: string,
  ) {
    this.resources = template.Resources as Resources;
  }

  /** The template's resources of one type, by logical ID. */
  resourcesOf(type: string): [string, NonNullable<Resources[string]>][] {
    return Object.entries(this.resources).filter(([, r]) => r?.Type === type) as [
      string,
      NonNullable<Resources[string]>,
    ][];
  }

  functionName(logicalId: string): string {
    return physicalName(this.stackName, logicalId);
  }

  functionArn(logicalId: string): string {
    return `arn:aws:lambda:${this.local.region}:${this.local.accountId}:function:${this.functionName(logicalId)}`;
  }

  /** `value` as CloudFormation would resolve it; `where` names it in the error. */
  async resolve(value: Json, where: string): Promise<string> {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    const intrinsic = value && typeof value === 'object' ? Object.keys(value) : [];
    if (intrinsic.length === 1) {
      const [fn] = intrinsic as [string];
      const arg = value[fn];
      if (fn === 'Ref') return this.ref(arg, where);
      if (fn === 'Fn::GetAtt') {
        const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return this.getAtt(logicalId, attribute, where);
      }
      if (fn === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
        const parts = await Promise.all(arg[1].map((part: Json) => this.resolve(part, where)));
        return parts.join(arg[0]);
      }
      if (fn === 'Fn::Sub') return this.sub(arg, where);
    }
    throw new Error(
      `${where} is ${JSON.stringify(value)}, which this test cannot resolve on the local AWS: teach test/infra/local-stack.ts to (or change the construct)`,
    );
  }

  private async sub(arg: Json, where: string): Promise<string> {
    const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
    let out = '';
    let last = 0;
    for (const match of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
      const name = match[1]!;
      const resolved =
        vars?.[name] !== undefined
          ? await this.resolve(vars[name], where)
          : name.includes('.')
            ? await this.getAtt(
                name.slice(0, name.indexOf('.')),
                name.slice(name.indexOf('.') + 1),
                where,
              )
            : await this.ref(name, where);
      out += String(text).slice(last, match.index) + resolved;
      last = match.index! + match[0].length;
    }
    return out + String(text).slice(last);
  }

  private async ref(logicalId: string, where: string): Promise<string> {
    if (PSEUDO.includes(logicalId)) return this.pseudo(logicalId);
    const type = this.typeOf(logicalId, where);
    switch (type) {
      case 'AWS::DynamoDB::Table':
        return this.table(logicalId, where);
      case 'AWS::SNS::Topic':
        return this.topic(logicalId);
      case 'AWS::S3::Bucket':
        return this.bucket(logicalId);
      case 'AWS::SecretsManager::Secret':
        return this.secret(logicalId);
      case 'AWS::Lambda::Function':
        return this.functionName(logicalId);
      case 'AWS::IAM::Role':
        return this.roleName(logicalId);
      default:
        throw this.unresolvable(where, `Ref ${logicalId}`, type);
    }
  }

  private async getAtt(logicalId: string, attribute: string, where: string): Promise<string> {
    const type = this.typeOf(logicalId, where);
    const { region, accountId } = this.local;
    switch (`${type}.${attribute}`) {
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:aws:dynamodb:${region}:${accountId}:table/${await this.table(logicalId, where)}`;
      case 'AWS::SNS::Topic.TopicArn':
        return this.topic(logicalId);
      case 'AWS::SNS::Topic.TopicName':
        return (await this.topic(logicalId)).split(':').at(-1)!;
      case 'AWS::Lambda::Function.Arn':
        return this.functionArn(logicalId);
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${await this.bucket(logicalId)}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${accountId}:role/${this.roleName(logicalId)}`;
      default:
        throw this.unresolvable(where, `Fn::GetAtt ${logicalId}.${attribute}`, type);
    }
  }

  private pseudo(name: string): string {
    switch (name) {
      case 'AWS::Region':
        return this.local.region;
      case 'AWS::AccountId':
        return this.local.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::StackName':
        return this.stackName;
      default:
        return 'amazonaws.com';
    }
  }

  private typeOf(logicalId: string, where: string): string {
    const resource = this.resources[logicalId];
    if (!resource) {
      throw new Error(
        `${where} refers to ${logicalId}, which is neither a resource of the template nor a pseudo parameter this test knows`,
      );
    }
    return resource.Type;
  }

  private unresolvable(where: string, reference: string, type: string): Error {
    return new Error(
      `${where} refers to ${reference} (${type}), which this test cannot create on the local AWS: teach test/infra/local-stack.ts to make one (or change the construct)`,
    );
  }

  private roleName(logicalId: string): string {
    return String(
      this.resources[logicalId]!.Properties?.RoleName ?? physicalName(this.stackName, logicalId),
    );
  }

  /** The audit table: the only table the suite has, created with the adapters' key design. */
  private table(logicalId: string, where: string): Promise<string> {
    return this.once(logicalId, async () => {
      const props = this.resources[logicalId]!.Properties ?? {};
      const keys = (props.KeySchema ?? []).map((k: Json) => `${k.AttributeName}:${k.KeyType}`);
      const audit = [`${AUDIT_TABLE.partitionKey}:HASH`, `${AUDIT_TABLE.sortKey}:RANGE`];
      if (JSON.stringify(keys) !== JSON.stringify(audit)) {
        throw new Error(
          `${where} refers to table ${logicalId} with keys ${keys.join(', ')}, not the audit table's (${audit.join(', ')}); this test creates only audit tables`,
        );
      }
      const name = String(props.TableName ?? physicalName(this.stackName, logicalId));
      await createAuditTable(new DynamoDBClient(this.local.clientConfig), name);
      this.tables.set(logicalId, name);
      return name;
    });
  }

  private topic(logicalId: string): Promise<string> {
    return this.once(logicalId, async () => {
      const props = this.resources[logicalId]!.Properties ?? {};
      const name = String(props.TopicName ?? physicalName(this.stackName, logicalId));
      const out = await new SNSClient(this.local.clientConfig).send(
        new CreateTopicCommand({ Name: name }),
      );
      this.topics.set(logicalId, out.TopicArn!);
      return out.TopicArn!;
    });
  }

  /** A bucket (the audit checkpoints'), with Object Lock when the template turns it on. */
  private bucket(logicalId: string): Promise<string> {
    return this.once(logicalId, async () => {
      const props = this.resources[logicalId]!.Properties ?? {};
      // Bucket names are lower case: CloudFormation lower-cases the names it makes, too.
      const name = String(
        props.BucketName ?? physicalName(this.stackName, logicalId).toLowerCase(),
      );
      await new S3Client({ ...this.local.clientConfig, forcePathStyle: true }).send(
        new CreateBucketCommand({
          Bucket: name,
          ObjectLockEnabledForBucket: props.ObjectLockEnabled === true,
        }),
      );
      return name;
    });
  }

  /** A secret with GenerateSecretString: CloudFormation generates the value; so does this. */
  private secret(logicalId: string): Promise<string> {
    return this.once(logicalId, async () => {
      const props = this.resources[logicalId]!.Properties ?? {};
      const length = Number(props.GenerateSecretString?.PasswordLength ?? 32);
      const out = await new SecretsManagerClient(this.local.clientConfig).send(
        new CreateSecretCommand({
          Name: physicalName(this.stackName, logicalId),
          SecretString: randomBytes(length).toString('base64').slice(0, length),
        }),
      );
      return out.ARN!;
    });
  }

  private once(logicalId: string, create: () => Promise<string>): Promise<string> {
    let made = this.created.get(logicalId);
    if (!made) {
      made = create();
      this.created.set(logicalId, made);
    }
    return made;
  }
}

/** The template's environment of `fn`, every reference resolved, plus the local endpoint. */
export async function environmentOf(
  fn: TemplateFunction,
  resolver: TemplateResolver,
  endpoint: string,
): Promise<Record<string, string>> {
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(fn.props.Environment?.Variables ?? {})) {
    variables[key] = await resolver.resolve(
      value,
      `function ${fn.logicalId}: environment variable ${key}`,
    );
  }
  if (variables.AWS_ENDPOINT_URL !== undefined) {
    throw new Error(
      `function ${fn.logicalId} sets AWS_ENDPOINT_URL itself; the deployed suite must reach AWS's own endpoints`,
    );
  }
  return { ...variables, AWS_ENDPOINT_URL: endpoint };
}

/** Creates every template function on the local AWS from its bundle; returns them deployed. */
export async function deployFunctions(
  local: LocalAws,
  functions: TemplateFunction[],
  resolver: TemplateResolver,
): Promise<DeployedFunction[]> {
  const lambda = new LambdaClient(local.clientConfig);
  const deployed: DeployedFunction[] = [];
  for (const fn of functions) {
    const variables = await environmentOf(fn, resolver, local.endpoint);
    // The stack's AWS::IAM::Role, created as CloudFormation would before the function that uses it.
    const role = await resolver.resolve(fn.props.Role, `function ${fn.logicalId}: Role`);
    if (!local.iam.roleExists(role)) local.iam.createRole(role.split('/').at(-1)!);
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: resolver.functionName(fn.logicalId),
        Runtime: fn.props.Runtime,
        Handler: fn.props.Handler,
        Role: role,
        Timeout: fn.props.Timeout,
        MemorySize: fn.props.MemorySize,
        Description: fn.props.Description,
        Code: { ZipFile: writeZip(filesOf(fn.assetDir)) },
        Environment: { Variables: variables },
      }),
    );
    deployed.push({ ...fn, name: created.FunctionName!, arn: created.FunctionArn!, variables });
  }
  // The stack's AWS::Lambda::Permission for Secrets Manager: the local Secrets Manager invokes
  // the rotation function only through it, as on AWS. (Rules and schedules are delivered by
  // this file directly, so their permissions are not needed here.)
  for (const [logicalId, permission] of resolver.resourcesOf('AWS::Lambda::Permission')) {
    const props = permission.Properties ?? {};
    const where = `permission ${logicalId}`;
    if (props.Principal !== 'secretsmanager.amazonaws.com') continue;
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: await resolver.resolve(props.FunctionName, `${where}: FunctionName`),
        StatementId: logicalId,
        Action: await resolver.resolve(props.Action, `${where}: Action`),
        Principal: await resolver.resolve(props.Principal, `${where}: Principal`),
        ...(props.SourceArn !== undefined && {
          SourceArn: await resolver.resolve(props.SourceArn, `${where}: SourceArn`),
        }),
      }),
    );
  }
  return deployed;
}

// ---- EventBridge rules ----

const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function matchesValue(rule: Json, field: Json): boolean {
  if (isObject(rule)) {
    const [operator] = Object.keys(rule);
    const arg = rule[operator!];
    switch (operator) {
      case 'prefix':
        return typeof field === 'string' && field.startsWith(arg);
      case 'exists':
        return (field !== undefined) === arg;
      case 'anything-but':
        return field !== undefined && !(Array.isArray(arg) ? arg : [arg]).includes(field);
      default:
        throw new Error(
          `event pattern operator ${operator} is not matched by test/infra/local-stack.ts: teach matchesPattern`,
        );
    }
  }
  return Array.isArray(field) ? field.includes(rule) : field === rule;
}

/**
 * Whether `event` matches an EventBridge event pattern: values, prefix, exists, anything-but, and
 * nested patterns, which match an array of objects when any element does.
 */
export function matchesPattern(pattern: Json, event: Json): boolean {
  for (const [key, rule] of Object.entries<Json>(pattern)) {
    const field = isObject(event) ? event[key] : undefined;
    if (Array.isArray(rule)) {
      if (!rule.some((r) => matchesValue(r, field))) return false;
    } else if (isObject(rule)) {
      // A pattern object against an array of objects matches when any element matches.
      const candidates = Array.isArray(field) ? field : [field];
      if (!candidates.some((item) => isObject(item) && matchesPattern(rule, item))) return false;
    } else {
      throw new Error(`event pattern field ${key} must be an array or an object`);
    }
  }
  return true;
}

/** A rule of the template that delivers matching events to one of the deployed functions. */
export interface WiredRule {
  logicalId: string;
  pattern: Json;
  target: DeployedFunction;
}

/**
 * Wires every enabled event-pattern rule of the template to the local event bus, as EventBridge
 * would: a matching event invokes the target function asynchronously. While `lost` says so,
 * events are dropped, as they are with no CloudTrail trail.
 */
export function wireRules(
  local: LocalAws,
  template: Json,
  functions: DeployedFunction[],
  lost: () => boolean,
): WiredRule[] {
  const wired: WiredRule[] = [];
  for (const [logicalId, r] of Object.entries(template.Resources as Resources)) {
    if (r.Type !== 'AWS::Events::Rule' || !r.Properties?.EventPattern) continue;
    if (r.Properties.State === 'DISABLED') continue;
    for (const target of r.Properties.Targets ?? []) {
      const fnId = target.Arn?.['Fn::GetAtt']?.[0];
      const fn = functions.find((f) => f.logicalId === fnId);
      if (!fn) continue;
      if (target.InputPath || target.InputTransformer) {
        throw new Error(
          `rule ${logicalId} reshapes its events for ${fn.logicalId} (InputPath or InputTransformer), which test/infra/local-stack.ts does not apply`,
        );
      }
      const pattern = r.Properties.EventPattern;
      const input = target.Input === undefined ? undefined : JSON.parse(target.Input);
      local.events.listen(async (event: LocalEvent) => {
        if (lost() || !matchesPattern(pattern, event)) return;
        await local.lambda.invoke(fn.arn, input ?? event);
      });
      wired.push({ logicalId, pattern, target: fn });
    }
  }
  return wired;
}

/**
 * The input a schedule of the template (EventBridge Scheduler or a scheduled rule) sends to
 * `fn`, with the scheduler's context attributes filled in; undefined when nothing schedules it.
 */
export function scheduledInput(template: Json, fn: TemplateFunction, at: Date): Json {
  for (const r of Object.values(template.Resources as Resources)) {
    const targets =
      r.Type === 'AWS::Scheduler::Schedule'
        ? [r.Properties?.Target]
        : r.Type === 'AWS::Events::Rule' && r.Properties?.ScheduleExpression
          ? (r.Properties.Targets ?? [])
          : [];
    for (const target of targets) {
      if (target?.Arn?.['Fn::GetAtt']?.[0] !== fn.logicalId) continue;
      if (typeof target.Input !== 'string') return {};
      return JSON.parse(
        target.Input.replaceAll('<aws.scheduler.scheduled-time>', at.toISOString())
          .replaceAll('<aws.scheduler.execution-id>', 'local-execution')
          .replaceAll('<aws.scheduler.attempt-number>', '0'),
      );
    }
  }
  return undefined;
}
