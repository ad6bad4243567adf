// The handlers' configuration, read from the environment the CDK construct sets.
// Missing required settings fail at cold start with a message naming the variable.

import * as ENV from '#commons/env-names';
import {
  DEFAULT_GRACE_EXTENSIONS,
  DEFAULT_MAX_LIFESPAN_MS,
  HOUR_MS,
  MAX_GRACE_EXTENSIONS,
  MAX_LIFESPAN_MS,
  MIN_LIFESPAN_MS,
  type PolicyLimits,
} from '#domain/policy';

export interface Config {
  /** DynamoDB table holding the audit trail (and alert de-duplication marks). */
  auditTableName: string;
  /** SNS topic that receives alerts. */
  alertTopicArn: string;
  /** ARN of the suite's rotation function (the sweep attaches it to secrets). */
  rotationFunctionArn?: string;
  /** Minutes between sweeps; the promise's slack is one interval. */
  sweepIntervalMinutes: number;
  /** Name of the deployed stack, for console links and the runbook name. */
  stackName: string;
  /** Region, for console links. */
  region: string;
  /**
   * IAM roles of the suite's own functions (SUITE_ROLE_ARNS, comma-separated): the tag-event
   * handler ignores the tag changes they make (the revoke sets last-revoked, removes revoke).
   */
  suiteRoleArns: string[];
  /** The stack's maxLifespan (MAX_LIFESPAN_HOURS): the longest lifespan a tag may ask for. */
  maxLifespanMs: number;
  /** The stack's graceExtensions (GRACE_EXTENSIONS): grace periods a still-used token may add. */
  graceExtensions: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is required and not set`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const interval = Number(env[ENV.SWEEP_INTERVAL_MINUTES] ?? '15');
  if (!Number.isInteger(interval) || interval < 1) {
    throw new ConfigError(
      `${ENV.SWEEP_INTERVAL_MINUTES} must be a whole number of minutes ≥ 1, got "${env[ENV.SWEEP_INTERVAL_MINUTES]}"`,
    );
  }
  const maxLifespanHours = Number(env[ENV.MAX_LIFESPAN_HOURS] ?? DEFAULT_MAX_LIFESPAN_MS / HOUR_MS);
  if (
    !Number.isInteger(maxLifespanHours) ||
    maxLifespanHours * HOUR_MS < MIN_LIFESPAN_MS ||
    maxLifespanHours * HOUR_MS > MAX_LIFESPAN_MS
  ) {
    throw new ConfigError(
      `${ENV.MAX_LIFESPAN_HOURS} must be whole hours from 4 to 8760 (365 days), got "${env[ENV.MAX_LIFESPAN_HOURS]}"`,
    );
  }
  const graceExtensions = Number(env[ENV.GRACE_EXTENSIONS] ?? DEFAULT_GRACE_EXTENSIONS);
  if (
    env[ENV.GRACE_EXTENSIONS] === '' ||
    !Number.isInteger(graceExtensions) ||
    graceExtensions < 0 ||
    graceExtensions > MAX_GRACE_EXTENSIONS
  ) {
    throw new ConfigError(
      `${ENV.GRACE_EXTENSIONS} must be a whole number from 0 to ${MAX_GRACE_EXTENSIONS}, got "${env[ENV.GRACE_EXTENSIONS]}"`,
    );
  }
  return {
    auditTableName: required(env, ENV.AUDIT_TABLE_NAME),
    alertTopicArn: required(env, ENV.ALERT_TOPIC_ARN),
    rotationFunctionArn: env[ENV.ROTATION_FUNCTION_ARN] || undefined,
    sweepIntervalMinutes: interval,
    stackName: env[ENV.STACK_NAME] ?? 'TokenRotation',
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    suiteRoleArns: (env[ENV.SUITE_ROLE_ARNS] ?? '')
      .split(',')
      .map((arn) => arn.trim())
      .filter((arn) => arn !== ''),
    maxLifespanMs: maxLifespanHours * HOUR_MS,
    graceExtensions,
  };
}

/**
 * What the sweep and tag-event handlers need beyond the common settings: the rotation function
 * they attach (required for them) and the sweep interval in milliseconds.
 */
export function lifespanSettings(config: Config): {
  rotationFunctionArn: string;
  sweepIntervalMs: number;
  limits: PolicyLimits;
} {
  if (!config.rotationFunctionArn) {
    throw new ConfigError(
      `environment variable ${ENV.ROTATION_FUNCTION_ARN} is required and not set`,
    );
  }
  return {
    rotationFunctionArn: config.rotationFunctionArn,
    sweepIntervalMs: config.sweepIntervalMinutes * 60_000,
    limits: { maxLifespanMs: config.maxLifespanMs, graceExtensions: config.graceExtensions },
  };
}
