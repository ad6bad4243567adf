// Reads the `-c key=value` settings of the CDK app, checks them, and builds the app with
// the cdk-nag packs of infra/nag.ts. Kept apart from app.ts so tests synthesize the same app.
import { type App, Duration, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { nagPacks } from './nag.ts';
import { TokenRotationStack, type TokenRotationStackProps } from './stack.ts';
import type { TokenRotationLogLevel } from './token-rotation.ts';

/** Context keys a user sets with `cdk deploy -c key=value`; README.md "Settings" documents each. */
export const CONTEXT_KEYS = [
  'stackName',
  'alertEmails',
  'sweepInterval',
  'logRetentionDays',
  'logLevel',
  'secretKeyArns',
  'rotationConcurrency',
  'accessKeyUserPath',
  'deleteDeactivatedAfterHours',
  'issuerFunctions',
  'maxLifespan',
] as const;

type ContextReader = (key: string) => unknown;

/** The stack's props from context; throws naming the key, what it got and what it allows. */
export function readContext(read: ContextReader): TokenRotationStackProps & { stackName: string } {
  const stackName = text(read, 'stackName') ?? 'TokenRotation';
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new Error(
      `context stackName must start with a letter and hold only letters, digits and hyphens (at most 128), got "${stackName}"`,
    );
  }
  const sweep = whole(read, 'sweepInterval');
  const retention = whole(read, 'logRetentionDays');
  const hours = whole(read, 'deleteDeactivatedAfterHours');
  if (retention !== undefined && !Object.values(logs.RetentionDays).includes(retention)) {
    const allowed = Object.values(logs.RetentionDays)
      .filter((v): v is number => typeof v === 'number' && v > 0)
      .sort((a, b) => a - b);
    throw new Error(
      `context logRetentionDays must be one of ${allowed.join(', ')}, got ${retention}`,
    );
  }
  return {
    stackName,
    alertEmails: list(read, 'alertEmails'),
    sweepInterval: sweep === undefined ? undefined : Duration.minutes(sweep),
    logRetention: retention as logs.RetentionDays | undefined,
    logLevel: text(read, 'logLevel')?.toUpperCase() as TokenRotationLogLevel | undefined,
    secretKeyArns: list(read, 'secretKeyArns'),
    rotationConcurrency: whole(read, 'rotationConcurrency'),
    accessKeyUserPath: text(read, 'accessKeyUserPath'),
    deleteDeactivatedAfter: hours === undefined ? undefined : Duration.hours(hours),
    issuerFunctions: list(read, 'issuerFunctions'),
    maxLifespan: lifespan(read, 'maxLifespan'),
  };
}

/** Adds the stack (and the nag checks) to `app`; returns the stack. */
export function buildApp(app: App): TokenRotationStack {
  const { stackName, ...props } = readContext((key) => app.node.tryGetContext(key));
  // Environment-agnostic: the template is the same on every machine, and `cdk deploy` puts it
  // in the account and region of the caller's credentials.
  const stack = new TokenRotationStack(app, stackName, props);
  Validations.of(app).addPlugins(...nagPacks(app));
  return stack;
}

/** A duration in the lifespan tag's own notation: `<n>d` or `<n>h` (`60d`, `1440h`). */
function lifespan(read: ContextReader, key: string): Duration | undefined {
  const value = text(read, key);
  if (value === undefined) return undefined;
  const match = /^([1-9]\d{0,5})([dh])$/.exec(value);
  if (!match) {
    throw new Error(
      `context ${key} must be <n>d or <n>h like a lifespan tag (e.g. 60d), got "${value}"`,
    );
  }
  const amount = Number(match[1]);
  return match[2] === 'd' ? Duration.days(amount) : Duration.hours(amount);
}

function text(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new Error(`context ${key} must be a string, got ${JSON.stringify(value)}`);
  }
  return String(value).trim();
}

function list(read: ContextReader, key: string): string[] | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  // cdk.json may hold a JSON array; -c on the command line gives a comma list.
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const cleaned = items.map((item) => item.trim());
  if (cleaned.some((item) => item === '')) {
    throw new Error(
      `context ${key} has an empty entry in "${String(value)}" (expected a comma list)`,
    );
  }
  return cleaned;
}

function whole(read: ContextReader, key: string): number | undefined {
  const raw = text(read, key);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new Error(`context ${key} must be a whole number, got "${raw}"`);
  }
  return Number(raw);
}
