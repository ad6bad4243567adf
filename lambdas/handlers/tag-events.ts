// EventBridge target for CloudTrail TagResource, UntagResource and CreateSecret calls on Secrets
// Manager: checks the event, tags the logs with the secret, and hands it to the tag-event domain,
// which attaches, updates or detaches that one secret.

import { deployedSweepDeps } from '#adapters/deployed-sweep';
import { dynamoClient } from '#commons/clients';
import { lifespanSettings, loadConfig } from '#commons/config';
import { ignoredEvent, lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import type { SweepDeps } from '#domain/sweep/index';
import {
  applyTagEvent,
  parseTagEvent,
  type TagEventOptions,
  type TagEventOutcome,
} from '#domain/tag-events';

export interface TagEventHandlerDeps extends TagEventOptions {
  sweep: Omit<SweepDeps, 'cursor'>;
}

/** A handler over `deps`, or over what `deps()` returns on the first event we act on. */
export function createTagEventsHandler(deps: TagEventHandlerDeps | (() => TagEventHandlerDeps)) {
  return lambdaHandler({
    name: 'tag-events',
    deps,
    failed: 'could not apply a tag event',
    run: async (event, invocation): Promise<TagEventOutcome> => {
      const parsed = parseTagEvent(event);
      if (!parsed.ok) return ignoredEvent('is not a Secrets Manager tag change', parsed.why);
      const tagEvent = parsed.event;
      logger.appendKeys({
        secretId: tagEvent.secretId,
        eventName: tagEvent.name,
        ...(tagEvent.principal ? { principal: tagEvent.principal } : {}),
      });
      const resolved = invocation.deps();
      const outcome = await applyTagEvent(tagEvent, resolved.sweep, resolved);
      if (outcome.status === 'ignored') {
        logger.info('tag event ignored', { why: outcome.why });
        return outcome;
      }
      if (outcome.failures.length > 0) {
        // Throwing makes EventBridge deliver the event again (the rule's retry policy); the
        // sweep catches whatever still fails.
        throw new Error(
          `tag event for ${outcome.secretArn}: ${outcome.failures.length} action(s) failed: ${outcome.failures.join('; ')}`,
        );
      }
      logger.info('tag event applied', {
        actions: outcome.actions,
        alertsSent: outcome.alertsSent,
      });
      return outcome;
    },
  });
}

/** The deployed handler, configured from the environment the CDK construct sets. */
export const handler = createTagEventsHandler(() => {
  const config = loadConfig();
  const lifespan = lifespanSettings(config);
  return {
    ...lifespan,
    ownRoles: config.suiteRoleArns,
    sweep: deployedSweepDeps(config, dynamoClient()),
  };
});
