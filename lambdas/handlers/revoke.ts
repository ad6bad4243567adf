// The revoke function, invoked directly: from the Lambda console's Test tab with
// {"secretId": "...", "reason": "...", "mode": "reissue" | "quarantine"}, or by the
// <stack>-EmergencyRevoke runbook, which adds {"runbook": {"executionId", "executedBy"}} so the
// audit trail names the person who ran it; or by the sweep, which adds {"sweep": {"requestId"}}
// for a revoke tag still on a secret (its event lost, or its revoke stopped part-way): that runs
// as the tag trigger, on the tag as it is now. Checks the event and hands it to domain/revoke.ts.

import type { Context } from 'aws-lambda';
import { deployedAuditAndAlerts } from '#adapters/deployed-audit-and-alerts';
import { DynamoRevokeLockStore } from '#adapters/dynamodb-revoke-locks';
import { deployedIssuerFor } from '#adapters/issuer-clients';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { dynamoClient, secretsManagerClient } from '#commons/clients';
import { loadConfig } from '#commons/config';
import { logger } from '#commons/logger';
import { describeError } from '#domain/errors';
import { displayValue } from '#domain/policy';
import { systemClock } from '#domain/ports';
import {
  type RevokeOutcome,
  type RevokeRequest,
  RevokeRequestError,
  revokeSecret,
} from '#domain/revoke';
import type { RevokeEventDeps } from '#domain/revoke-events';
import type { Trigger } from '#domain/vocabulary';

const MAX_SECRET_ID = 2048;
const EXECUTION_ID = /^[A-Za-z0-9-]{1,64}$/;
const PRINCIPAL = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/:-]{1,512}$/;
const SWEEP_REQUEST_ID = /^[0-9a-f]{32}$/;

/** The Lambda console's Test event, documented for people: `reason` and `mode` are checked by the domain. */
export interface DirectRevokeEvent {
  secretId: string;
  reason: string;
  mode?: 'reissue' | 'quarantine';
  /** Set by the runbook only. */
  runbook?: { executionId: string; executedBy?: string };
  /** Set by the sweep only (LambdaRevokeRequester): the revoke tag it found (see the header). */
  sweep?: { requestId: string };
}

/** A request from a direct invoke. Throws a RevokeRequestError when the event names no secret. */
export function parseRevokeInvoke(event: unknown): RevokeRequest {
  const fields =
    typeof event === 'object' && event !== null && !Array.isArray(event)
      ? (event as Record<string, unknown>)
      : undefined;
  const secretId = fields?.secretId;
  if (typeof secretId !== 'string' || secretId.trim() === '' || secretId.length > MAX_SECRET_ID) {
    throw new RevokeRequestError(
      '(no secret named)',
      'revoke',
      `expected {"secretId": "<secret name or ARN>", "reason": "<why>", "mode": "reissue" or "quarantine"}, found ${fields ? 'no valid secretId' : 'no object'}; nothing was changed`,
      'invalid-request',
    );
  }
  if (fields?.sweep !== undefined) return parseSweepPickup(secretId.trim(), fields);
  let trigger: Trigger = { source: 'console' };
  const detail: Record<string, string> = {};
  const runbook = fields?.runbook;
  if (typeof runbook === 'object' && runbook !== null) {
    const { executionId, executedBy } = runbook as Record<string, unknown>;
    trigger = {
      source: 'runbook',
      ...(typeof executedBy === 'string' && PRINCIPAL.test(executedBy)
        ? { principal: executedBy }
        : {}),
    };
    if (typeof executionId === 'string' && EXECUTION_ID.test(executionId)) {
      detail.executionId = executionId;
    }
  }
  return { secretId: secretId.trim(), reason: fields?.reason, mode: fields?.mode, trigger, detail };
}

/**
 * The sweep's hand-over of a revoke tag. Whoever sends the marker can only start the revoke the
 * tag on the secret asks for, with the tag's reason: `requireTag` reads both from the secret, and
 * a tag already handled (removed) makes it `ignored`. Anything but the sweep's exact shape is refused.
 */
function parseSweepPickup(secretId: string, fields: Record<string, unknown>): RevokeRequest {
  const sweep = fields.sweep;
  const requestId =
    typeof sweep === 'object' && sweep !== null && !Array.isArray(sweep)
      ? (sweep as Record<string, unknown>).requestId
      : undefined;
  const problems: string[] = [];
  if (typeof requestId !== 'string' || !SWEEP_REQUEST_ID.test(requestId)) {
    problems.push('expected sweep to be {"requestId": "<32 hex digits>"}');
  }
  if (fields.runbook !== undefined) problems.push('expected runbook or sweep, not both');
  if (fields.mode !== undefined && fields.mode !== 'reissue') {
    problems.push('expected mode reissue (a revoke tag always reissues) or none');
  }
  if (problems.length > 0) {
    throw new RevokeRequestError(
      displayValue(secretId, 200),
      'revoke',
      `${problems.join('; ')}; nothing was changed`,
      'invalid-request',
    );
  }
  return {
    secretId,
    reason: fields.reason,
    mode: 'reissue',
    // The tag's author is not known here (that is in the lost event); the sweep only found it.
    trigger: { source: 'tag' },
    requestKey: `sweep:${requestId}`,
    requireTag: true,
    detail: { pickedUpBy: 'sweep' },
  };
}

type Deps = Parameters<typeof revokeSecret>[1];

/** A handler over `deps`, or over what `deps()` returns on the first valid invoke. */
export function createRevokeHandler(deps: Deps | (() => Deps)) {
  let resolved: Deps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event: unknown, context?: Context): Promise<RevokeOutcome> => {
    if (context) logger.addContext(context);
    try {
      const request = parseRevokeInvoke(event);
      logger.appendKeys({ secretId: request.secretId, trigger: request.trigger.source });
      resolved ??= (deps as () => Deps)();
      const outcome = await revokeSecret(request, {
        log: { warn: (message, extra) => logger.warn(message, { ...extra }) },
        ...resolved,
      });
      logger.info('revoke done', {
        status: outcome.status,
        ...('revokeId' in outcome ? { revokeId: outcome.revokeId } : {}),
      });
      return outcome;
    } catch (error) {
      // Messages are scrubbed by the domain; the error object itself is never logged.
      logger.error('revoke failed', { error: describeError(error) });
      throw error;
    } finally {
      logger.resetKeys();
    }
  };
}

/** The revoke's dependencies in Lambda, from the environment the CDK construct sets. */
export function revokeDepsFromEnv(): RevokeEventDeps {
  const config = loadConfig();
  const dynamo = dynamoClient();
  const secretsManager = secretsManagerClient();
  return {
    store: new SecretsManagerStore(secretsManager),
    catalog: new SecretsManagerCatalog(secretsManager),
    ...deployedAuditAndAlerts(config, dynamo),
    issuerFor: deployedIssuerFor(),
    locks: new DynamoRevokeLockStore(dynamo, config.auditTableName),
    clock: systemClock,
    stackName: config.stackName,
  };
}

/** The deployed handler. */
export const handler = createRevokeHandler(revokeDepsFromEnv);
