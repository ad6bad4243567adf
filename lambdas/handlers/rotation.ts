// The rotation function Secrets Manager invokes for each of the four steps: checks the event,
// tags the logs with the secret, step and version, and hands the step to the rotation domain.

import { deployedAuditAndAlerts } from '#adapters/deployed-audit-and-alerts';
import { deployedMintIndex } from '#adapters/deployed-isolation';
import { DynamoRevokeLockStore } from '#adapters/dynamodb-revoke-locks';
import { deployedIssuerFor } from '#adapters/issuer-clients';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { dynamoClient, secretsManagerClient } from '#commons/clients';
import { loadConfig } from '#commons/config';
import { lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import { createMetrics, METRIC_NAMES, type MetricsSink, MetricUnit } from '#commons/metrics';
import { scrub, ValidationError } from '#domain/errors';
import { systemClock } from '#domain/ports';
import { type RotationDeps, type RotationRequest, rotateStep } from '#domain/rotation/index';
import { STEPS, type Step } from '#domain/vocabulary';

/** Secrets Manager's limits on the event fields we pass back to it. */
const MAX_SECRET_ID = 2048;
const TOKEN_LENGTH = { min: 32, max: 64 };

function describeFound(value: unknown): string {
  if (value === undefined) return 'none';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return value === '' ? 'an empty string' : `a string of ${value.length} characters`;
  }
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

const isStep = (value: unknown): value is Step =>
  typeof value === 'string' && (STEPS as readonly string[]).includes(value);

/**
 * The rotation request in a Secrets Manager rotation event. Throws a ValidationError naming
 * every field that is missing or malformed (by its shape, never its content but the Step).
 */
export function parseRotationEvent(event: unknown): Omit<RotationRequest, 'trigger'> {
  const fields = (typeof event === 'object' && event !== null ? event : {}) as Record<
    string,
    unknown
  >;
  const { SecretId, ClientRequestToken, Step, RotationToken } = fields;
  const secretOk =
    typeof SecretId === 'string' && SecretId.length > 0 && SecretId.length <= MAX_SECRET_ID;
  const tokenOk =
    typeof ClientRequestToken === 'string' &&
    ClientRequestToken.length >= TOKEN_LENGTH.min &&
    ClientRequestToken.length <= TOKEN_LENGTH.max;
  const problems: string[] = [];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    problems.push(
      `expected a rotation event (an object with SecretId, ClientRequestToken and Step), found ${describeFound(event)}`,
    );
  } else {
    if (!secretOk) {
      problems.push(
        `expected SecretId to be a string of 1 to ${MAX_SECRET_ID} characters, found ${describeFound(SecretId)}`,
      );
    }
    if (!tokenOk) {
      problems.push(
        `expected ClientRequestToken to be a string of ${TOKEN_LENGTH.min} to ${TOKEN_LENGTH.max} characters, found ${describeFound(ClientRequestToken)}`,
      );
    }
    if (!isStep(Step)) {
      const found =
        typeof Step === 'string' && Step !== ''
          ? `"${scrub(Step.slice(0, 40))}"`
          : describeFound(Step);
      problems.push(`expected Step to be one of ${STEPS.join(', ')}, found ${found}`);
    }
    if (RotationToken !== undefined && typeof RotationToken !== 'string') {
      problems.push(
        `expected RotationToken to be a string when present, found ${describeFound(RotationToken)}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new ValidationError(
      secretOk ? (SecretId as string) : '(no valid SecretId)',
      isStep(Step) ? Step : 'event',
      problems.join('; '),
      'invalid-event',
    );
  }
  return {
    secretId: SecretId as string,
    token: ClientRequestToken as string,
    step: Step as Step,
    ...(typeof RotationToken === 'string' && { rotationToken: RotationToken }),
  };
}

/** A rotation handler over `deps`, or over what `deps()` returns on the first invocation. */
export function createRotationHandler(
  deps: RotationDeps | (() => RotationDeps),
  options: { metrics?: MetricsSink } = {},
) {
  const { metrics } = options;
  return lambdaHandler({
    name: 'rotation',
    deps,
    failed: 'rotation step failed',
    metrics: () => metrics,
    onFailure: () => metrics?.addMetric(METRIC_NAMES.rotationFailed, MetricUnit.Count, 1),
    run: async (event, invocation): Promise<void> => {
      const request = parseRotationEvent(event);
      logger.appendKeys({
        secretId: request.secretId,
        step: request.step,
        versionId: request.token,
      });
      await rotateStep({ ...request, trigger: { source: 'secretsmanager' } }, invocation.deps());
      if (request.step === 'finishSecret') {
        metrics?.addMetric(METRIC_NAMES.rotationSucceeded, MetricUnit.Count, 1);
      }
      logger.info('rotation step done');
    },
  });
}

/** The deployed handler, configured from the environment the CDK construct sets. */
export const handler = createRotationHandler(
  () => {
    const config = loadConfig();
    const dynamo = dynamoClient();
    const store = new SecretsManagerStore(secretsManagerClient());
    const tokenIndex = deployedMintIndex(process.env, store);
    return {
      store,
      ...deployedAuditAndAlerts(config, dynamo),
      issuerFor: deployedIssuerFor(),
      clock: systemClock,
      revokes: new DynamoRevokeLockStore(dynamo, config.auditTableName),
      ...(tokenIndex && { tokenIndex }),
    };
  },
  { metrics: createMetrics() },
);
