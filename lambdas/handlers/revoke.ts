// The revoke function, invoked directly: from the Lambda console's Test tab with
// {"secretId": "...", "reason": "...", "mode": "reissue" | "quarantine"}, or by the
// <stack>-EmergencyRevoke runbook, which sends only {"runbook": {"executionId": "..."}}: the
// form's fields and the person who ran it (ExecutedBy) are read back from Systems Manager, so
// the audit trail and the alert name who asked whatever the invoker claims; or by the sweep, which adds {"sweep": {"requestId"}}
// for a revoke tag still on a secret (its event lost, or its revoke stopped part-way): that runs
// as the tag trigger, on the tag as it is now. Checks the event and hands it to domain/revoke/.

import { deployedAuditAndAlerts } from '#adapters/deployed-audit-and-alerts';
import { deployedRevokedTokens } from '#adapters/deployed-isolation';
import { DynamoRevokeLockStore } from '#adapters/dynamodb-revoke-locks';
import { deployedIssuerFor } from '#adapters/issuer-clients';
import { onFirstCall } from '#adapters/on-first-call';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import type { AutomationExecutions } from '#adapters/ssm-automation';
import { dynamoClient, secretsManagerClient } from '#commons/clients';
import { loadConfig } from '#commons/config';
import { lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import { displayValue } from '#domain/policy';
import { systemClock } from '#domain/ports';
import {
  type RevokeOutcome,
  type RevokeRequest,
  RevokeRequestError,
  revokeSecret,
} from '#domain/revoke/index';
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
  /** Set by the runbook only, and then alone: the rest is read from the execution. */
  runbook?: { executionId: string };
  /** Set by the sweep only (LambdaRevokeRequester): the revoke tag it found (see the header). */
  sweep?: { requestId: string };
  /** Who the invoker says it is (the CLI: its STS caller ARN). Recorded as a claim, never as verified. */
  requestedBy?: string;
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
  if (fields?.runbook !== undefined) {
    throw new RevokeRequestError(
      displayValue(secretId.trim(), 200),
      'revoke',
      'expected a runbook request to name only its execution ({"runbook": {"executionId": "..."}}): the secret, reason, mode and who ran it are read from the execution; nothing was changed',
      'invalid-request',
    );
  }
  const trigger: Trigger = { source: 'console', principal: directInvoker(fields?.requestedBy) };
  const detail: Record<string, string> = {};
  return { secretId: secretId.trim(), reason: fields?.reason, mode: fields?.mode, trigger, detail };
}

/**
 * Who asked, for a direct invoke: the Lambda event carries no verified identity (the invoker's
 * is in CloudTrail's Invoke record, which the function does not see), so it is recorded as
 * unknown, never as verified. A `requestedBy` claim (the CLI sends its caller's STS
 * GetCallerIdentity ARN) is kept beside it, marked as claimed, when it has an IAM or STS ARN's
 * shape; anything else is not echoed, so a forged or garbled claim cannot put text in the trail.
 */
export function directInvoker(requestedBy: unknown): string {
  if (requestedBy === undefined) return 'unknown (direct invoke)';
  if (typeof requestedBy === 'string' && PRINCIPAL.test(requestedBy)) {
    return `unknown (direct invoke, claimed: ${requestedBy})`;
  }
  return 'unknown (direct invoke, with a requestedBy claim that is not an IAM or STS ARN)';
}

/** True for the runbook's event: `{"runbook": {...}}` and nothing else. */
export function isRunbookInvoke(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    !Array.isArray(event) &&
    Object.keys(event).length === 1 &&
    'runbook' in event
  );
}

/**
 * The request the EmergencyRevoke runbook's execution carries, read from Systems Manager: the
 * execution must exist, be of this stack's runbook and still be running (a finished one cannot be
 * replayed), and its ExecutedBy is the requester. Throws a RevokeRequestError otherwise.
 */
export async function parseRunbookInvoke(
  event: unknown,
  executions: AutomationExecutions,
  stackName: string,
): Promise<RevokeRequest> {
  const runbook = (event as { runbook?: unknown }).runbook;
  const executionId =
    typeof runbook === 'object' && runbook !== null && !Array.isArray(runbook)
      ? (runbook as Record<string, unknown>).executionId
      : undefined;
  const refuse = (secret: string, found: string) =>
    new RevokeRequestError(secret, 'revoke', `${found}; nothing was changed`, 'invalid-request');
  if (typeof executionId !== 'string' || !EXECUTION_ID.test(executionId)) {
    throw refuse(
      '(no secret named)',
      'expected {"runbook": {"executionId": "<Automation execution ID>"}}, found no valid executionId',
    );
  }
  const document = `${stackName}-EmergencyRevoke`;
  const execution = await executions.get(executionId);
  if (!execution) {
    throw refuse(
      '(no secret named)',
      `expected Automation execution ${executionId} of ${document}, found none`,
    );
  }
  const field = (name: string) => execution.parameters[name]?.[0];
  const secretId = field('SecretId')?.trim() ?? '';
  const secret = secretId === '' ? '(no secret named)' : displayValue(secretId, 200);
  if (execution.documentName !== document) {
    throw refuse(
      secret,
      `expected Automation execution ${executionId} to run ${document}, found ${displayValue(execution.documentName, 200) || 'no document'}`,
    );
  }
  if (execution.status !== 'InProgress') {
    throw refuse(
      secret,
      `expected Automation execution ${executionId} to be running (InProgress), found ${displayValue(execution.status, 40)}: a finished execution cannot start a revoke`,
    );
  }
  if (secretId === '' || secretId.length > MAX_SECRET_ID) {
    throw refuse(secret, `expected the execution's SecretId to name a secret, found none`);
  }
  const principal = execution.executedBy;
  return {
    secretId,
    reason: field('Reason'),
    mode: field('Mode'),
    trigger: {
      source: 'runbook',
      ...(principal !== undefined && PRINCIPAL.test(principal) ? { principal } : {}),
    },
    detail: { executionId },
  };
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

/** Without `executions` (tests that never run the runbook), a runbook invoke is refused. */
type HandlerDeps = Deps & { executions?: AutomationExecutions };

const NO_EXECUTIONS: AutomationExecutions = {
  get: () => {
    throw new Error('this revoke handler was built without Systems Manager access (executions)');
  },
};

/** A handler over `deps`, or over what `deps()` returns on the first invoke. */
export function createRevokeHandler(deps: HandlerDeps | (() => HandlerDeps)) {
  return lambdaHandler({
    name: 'revoke',
    deps,
    // Messages are scrubbed by the domain; the error object itself is never logged.
    failed: 'revoke failed',
    run: async (event, invocation): Promise<RevokeOutcome> => {
      const request = isRunbookInvoke(event)
        ? await parseRunbookInvoke(
            event,
            invocation.deps().executions ?? NO_EXECUTIONS,
            // The domain's default too (revokeSecret): the runbook is named after the stack.
            invocation.deps().stackName ?? 'TokenRotation',
          )
        : parseRevokeInvoke(event);
      logger.appendKeys({ secretId: request.secretId, trigger: request.trigger.source });
      const outcome = await revokeSecret(request, {
        log: { warn: (message, extra) => logger.warn(message, { ...extra }) },
        ...invocation.deps(),
      });
      logger.info('revoke done', {
        status: outcome.status,
        ...('revokeId' in outcome ? { revokeId: outcome.revokeId } : {}),
      });
      return outcome;
    },
  });
}

/** The revoke's dependencies in Lambda, from the environment the CDK construct sets. */
export function revokeDepsFromEnv(): RevokeEventDeps {
  const config = loadConfig();
  const dynamo = dynamoClient();
  const secretsManager = secretsManagerClient();
  const store = new SecretsManagerStore(secretsManager);
  const tokenIndex = deployedRevokedTokens(process.env, store, dynamo, config.auditTableName);
  return {
    store,
    catalog: new SecretsManagerCatalog(secretsManager),
    ...deployedAuditAndAlerts(config, dynamo),
    issuerFor: deployedIssuerFor(),
    locks: new DynamoRevokeLockStore(dynamo, config.auditTableName),
    clock: systemClock,
    stackName: config.stackName,
    ...(tokenIndex && { tokenIndex }),
  };
}

/** The deployed handler: the runbook's requests are read from Systems Manager. */
export const handler = createRevokeHandler(() => ({
  ...revokeDepsFromEnv(),
  // Systems Manager is read only for a runbook's request: its client is loaded then.
  executions: onFirstCall(
    async () => (await import('#adapters/ssm-automation')).deployedAutomationExecutions(),
    ['get'],
  ),
}));
