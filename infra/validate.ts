// Checks every TokenRotation prop before any resource exists, so a mistake fails synth with a
// message that says what is wrong and what is allowed.
import { Duration, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULT_ENVIRONMENT_ORDER, parseEnvironmentOrder } from '#domain/isolation/ranks';
import { DEFAULT_GRACE_EXTENSIONS, MAX_GRACE_EXTENSIONS } from '#domain/policy';
import type { TokenRotationLogLevel, TokenRotationProps } from './token-rotation.ts';

const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>".]+$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const NAMESPACE = /^[A-Za-z0-9._/#:-]{1,255}$/;
const LOG_LEVELS: readonly TokenRotationLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

export interface Settings {
  alertEmails: string[];
  sweepIntervalMinutes: number;
  logRetention: logs.RetentionDays;
  logLevel: TokenRotationLogLevel;
  secretKeyArns: string[] | undefined;
  rotationConcurrency: number;
  metricsNamespace: string;
  accessKeyUserPath: string;
  deleteDeactivatedAfterHours: number;
  issuerFunctions: string[];
  maxLifespanHours: number;
  graceExtensions: number;
  /** Environments, least trusted first. */
  environmentOrder: string[];
  checkpointRetentionDays: number;
}

/** Checks every prop before any resource exists, so a mistake fails synth with a clear reason. */
export function validate(props: TokenRotationProps): Settings {
  const alertEmails = validateEmails(props.alertEmails ?? []);

  const interval = props.sweepInterval ?? Duration.minutes(15);
  let sweepIntervalMinutes: number;
  try {
    sweepIntervalMinutes = interval.toMinutes();
  } catch {
    throw new Error(
      `sweepInterval must be a whole number of minutes from 1 to 1440, got ${interval.toHumanString()}`,
    );
  }
  if (sweepIntervalMinutes < 1 || sweepIntervalMinutes > 1440) {
    throw new Error(
      `sweepInterval must be a whole number of minutes from 1 to 1440, got ${interval.toHumanString()}`,
    );
  }

  const logLevel = props.logLevel ?? 'INFO';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const secretKeyArns = validateSecretKeyArns(props.secretKeyArns);

  const rotationConcurrency = props.rotationConcurrency ?? 20;
  if (
    !Number.isInteger(rotationConcurrency) ||
    rotationConcurrency < 10 ||
    rotationConcurrency > 1000
  ) {
    throw new Error(
      `rotationConcurrency must be a whole number from 10 to 1000 (Secrets Manager needs room for 10 concurrent rotations), got ${rotationConcurrency}`,
    );
  }

  const metricsNamespace = props.metricsNamespace ?? 'TokenRotation';
  if (!NAMESPACE.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) {
    throw new Error(
      `metricsNamespace must be 1 to 255 letters, digits or . _ - / # : and must not start with AWS/, got "${metricsNamespace}"`,
    );
  }

  const maxLifespanHours = props.maxLifespan?.toHours({ integral: false }) ?? 30 * 24;
  if (!Number.isInteger(maxLifespanHours) || maxLifespanHours < 4 || maxLifespanHours > 365 * 24) {
    throw new Error(
      `maxLifespan must be whole hours from 4 hours to 365 days, got ${props.maxLifespan?.toHumanString()}`,
    );
  }

  const graceExtensions = props.graceExtensions ?? DEFAULT_GRACE_EXTENSIONS;
  if (
    !Number.isInteger(graceExtensions) ||
    graceExtensions < 0 ||
    graceExtensions > MAX_GRACE_EXTENSIONS
  ) {
    throw new Error(
      `graceExtensions must be a whole number of grace periods from 0 to ${MAX_GRACE_EXTENSIONS}, got ${graceExtensions}`,
    );
  }

  const environmentOrder = validEnvironmentOrder(props.environmentOrder);

  return {
    alertEmails,
    environmentOrder,
    sweepIntervalMinutes,
    maxLifespanHours,
    graceExtensions,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    logLevel,
    secretKeyArns,
    rotationConcurrency,
    metricsNamespace,
    checkpointRetentionDays: validateRetention(props.checkpointRetentionDays ?? 400),
    ...validateIssuers(props),
  };
}

function validateEmails(alertEmails: string[]): string[] {
  const seen = new Set<string>();
  for (const address of alertEmails) {
    if (Token.isUnresolved(address)) continue;
    if (!EMAIL.test(address)) {
      throw new Error(
        `alertEmails: "${address}" is not an e-mail address (expected one address like ops@example.com per entry)`,
      );
    }
    const key = address.toLowerCase();
    if (seen.has(key)) {
      throw new Error(
        `alertEmails: "${address}" is listed twice (each address gets one subscription)`,
      );
    }
    seen.add(key);
  }

  return alertEmails;
}

function validateSecretKeyArns(secretKeyArns: string[] | undefined): string[] | undefined {
  if (secretKeyArns !== undefined) {
    if (secretKeyArns.length === 0) {
      throw new Error(
        'secretKeyArns must list at least one KMS key ARN, or be left out to allow any key through Secrets Manager',
      );
    }
    for (const arn of secretKeyArns) {
      if (!Token.isUnresolved(arn) && !KMS_KEY_ARN.test(arn)) {
        throw new Error(
          `secretKeyArns: "${arn}" is not a KMS key ARN (expected arn:aws:kms:<region>:<account>:key/<key id>; aliases are not allowed)`,
        );
      }
    }
  }

  return secretKeyArns;
}

/** Days each audit checkpoint is locked: S3 takes whole days, up to 100 years. */
function validateRetention(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > 36_500) {
    throw new Error(`checkpointRetentionDays must be a whole number from 1 to 36500, got ${days}`);
  }
  return days;
}

// IAM's path characters (\u0021-\u007E) less `/` and the IAM policy wildcards `*` and `?`: the
// path becomes a resource ARN, and `/*/` would grant key management over every user with a path.
const USER_PATH = /^\/([\x21-\x29\x2b-\x2e\x30-\x3e\x40-\x7e]+\/)+$/;
const FUNCTION_REF =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;

/** The token kinds' settings: the IAM path, the delete-after time and the issuer functions. */
function validateIssuers(
  props: TokenRotationProps,
): Pick<Settings, 'accessKeyUserPath' | 'deleteDeactivatedAfterHours' | 'issuerFunctions'> {
  const accessKeyUserPath = props.accessKeyUserPath ?? '/token-rotation/';
  if (
    !Token.isUnresolved(accessKeyUserPath) &&
    (!USER_PATH.test(accessKeyUserPath) || accessKeyUserPath.length > 512)
  ) {
    throw new Error(
      `accessKeyUserPath must be an IAM path below the root that starts and ends with / (e.g. /token-rotation/), got "${accessKeyUserPath}"`,
    );
  }
  const hours = props.deleteDeactivatedAfter?.toHours({ integral: false }) ?? 7 * 24;
  if (!Number.isInteger(hours) || hours < 1 || hours > 365 * 24) {
    throw new Error(
      `deleteDeactivatedAfter must be whole hours from 1 hour to 365 days, got ${props.deleteDeactivatedAfter?.toHumanString()}`,
    );
  }
  const issuerFunctions = props.issuerFunctions ?? [];
  for (const ref of issuerFunctions) {
    if (!Token.isUnresolved(ref) && !FUNCTION_REF.test(ref)) {
      throw new Error(
        `issuerFunctions must hold Lambda function names or ARNs (a qualifier allowed), got "${ref}"`,
      );
    }
  }
  return { accessKeyUserPath, deleteDeactivatedAfterHours: hours, issuerFunctions };
}

/** `environmentOrder`: distinct environment names, least trusted first. */
function validEnvironmentOrder(order: string[] | undefined): string[] {
  if (order === undefined) return [...DEFAULT_ENVIRONMENT_ORDER];
  if (order.length === 0) {
    throw new Error('environmentOrder must list at least one environment, least trusted first');
  }
  return parseEnvironmentOrder(order.join(','));
}
