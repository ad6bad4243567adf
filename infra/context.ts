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
  'graceExtensions',
  'environmentOrder',
] as const;

type ContextReader = (key: string) => unknown;

/**
 * A mistake in a setting the user gave: the CDK app prints its message alone, on one line, and
 * exits non-zero (a stack trace would bury the one sentence that says what to fix).
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** What `-c alertEmails=none` says: no e-mail subscription, on purpose. */
export const NO_ALERT_EMAILS = 'none';

/**
 * Fails on a context key that looks like one of ours (a plain camelCase word) but is not one, naming
 * the closest known key: `-c alertEmail=...` must not deploy a stack that e-mails nobody.
 * CDK's own keys (feature flags `@aws-cdk/...`, `aws:cdk:...`, lookups `name:account=...`) hold
 * punctuation and are left alone.
 */
export function checkContextKeys(keys: Iterable<string>): void {
  for (const key of keys) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) continue;
    if ((CONTEXT_KEYS as readonly string[]).includes(key)) continue;
    const closest = [...CONTEXT_KEYS].sort((a, b) => distance(key, a) - distance(key, b))[0]!;
    throw new SettingsError(
      `unknown context key "${key}": did you mean "${closest}"? (known keys: ${CONTEXT_KEYS.join(', ')})`,
    );
  }
}

/** Edit distance, case-insensitive: how far a typed key is from a known one. */
function distance(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + cost));
    }
    row = next;
  }
  return row[y.length]!;
}

/**
 * alertEmails is required: a stack nobody hears from is a mistake unless `none` says it is meant.
 */
function alertEmails(read: ContextReader): string[] {
  const emails = list(read, 'alertEmails');
  if (emails === undefined) {
    throw new SettingsError(
      `context alertEmails is not set: give the addresses that receive alerts (-c alertEmails=ops@example.com,sec@example.com), or -c alertEmails=${NO_ALERT_EMAILS} to deploy with no e-mail subscription on purpose`,
    );
  }
  if (emails.length === 1 && emails[0]!.toLowerCase() === NO_ALERT_EMAILS) return [];
  if (emails.some((e) => e.toLowerCase() === NO_ALERT_EMAILS)) {
    throw new SettingsError(
      `context alertEmails: "${NO_ALERT_EMAILS}" cannot be listed with addresses, got "${emails.join(',')}"`,
    );
  }
  return emails;
}

/** The stack's props from context; throws naming the key, what it got and what it allows. */
export function readContext(read: ContextReader): TokenRotationStackProps & { stackName: string } {
  const stackName = text(read, 'stackName') ?? 'TokenRotation';
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new SettingsError(
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
    throw new SettingsError(
      `context logRetentionDays must be one of ${allowed.join(', ')}, got ${retention}`,
    );
  }
  return {
    stackName,
    alertEmails: alertEmails(read),
    sweepInterval: sweep === undefined ? undefined : Duration.minutes(sweep),
    logRetention: retention as logs.RetentionDays | undefined,
    logLevel: text(read, 'logLevel')?.toUpperCase() as TokenRotationLogLevel | undefined,
    secretKeyArns: list(read, 'secretKeyArns'),
    rotationConcurrency: whole(read, 'rotationConcurrency'),
    accessKeyUserPath: text(read, 'accessKeyUserPath'),
    deleteDeactivatedAfter: hours === undefined ? undefined : Duration.hours(hours),
    issuerFunctions: list(read, 'issuerFunctions'),
    maxLifespan: lifespan(read, 'maxLifespan'),
    graceExtensions: whole(read, 'graceExtensions'),
    environmentOrder: list(read, 'environmentOrder'),
  };
}

/** Adds the stack (and the nag checks) to `app`; returns the stack. */
export function buildApp(app: App): TokenRotationStack {
  checkContextKeys(Object.keys(app.node.getAllContext()));
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
    throw new SettingsError(`context ${key} must be a string, got ${JSON.stringify(value)}`);
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
    throw new SettingsError(
      `context ${key} has an empty entry in "${String(value)}" (expected a comma list)`,
    );
  }
  return cleaned;
}

function whole(read: ContextReader, key: string): number | undefined {
  const raw = text(read, key);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new SettingsError(`context ${key} must be a whole number, got "${raw}"`);
  }
  return Number(raw);
}
