// EventBridge target for the emergency revoke's event triggers: a CloudTrail TagResource that sets
// token-rotation:revoke, and AWS Health exposed-credential events. Checks the event and hands it
// to domain/revoke-events.ts; an event it does not understand is logged and dropped.

import type { Context } from 'aws-lambda';
import { logger } from '#commons/logger';
import { describeError } from '#domain/errors';
import { RevokeRequestError } from '#domain/revoke';
import {
  handleRevokeEvent,
  parseRevokeEvent,
  type RevokeEventDeps,
  type RevokeEventOutcome,
} from '#domain/revoke-events';
import { revokeDepsFromEnv } from '#handlers/revoke';

export type RevokeEventsResult =
  | { status: 'handled'; outcomes: RevokeEventOutcome[] }
  | { status: 'ignored'; why: string }
  | { status: 'refused'; error: string };

/** A handler over `deps`, or over what `deps()` returns on the first event we understand. */
export function createRevokeEventsHandler(deps: RevokeEventDeps | (() => RevokeEventDeps)) {
  let resolved: RevokeEventDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event: unknown, context?: Context): Promise<RevokeEventsResult> => {
    if (context) logger.addContext(context);
    try {
      const parsed = parseRevokeEvent(event);
      if (!parsed.ok) {
        // Returning, not throwing: EventBridge would retry an event we will never act on.
        logger.warn('ignored an event that asks for no revoke', { why: parsed.why });
        return { status: 'ignored', why: parsed.why };
      }
      logger.appendKeys(
        parsed.event.kind === 'tag'
          ? { trigger: 'tag', secretId: parsed.event.secretId, eventId: parsed.event.eventId }
          : { trigger: 'health', healthEvent: parsed.event.code, eventArn: parsed.event.eventArn },
      );
      resolved ??= (deps as () => RevokeEventDeps)();
      const outcomes = await handleRevokeEvent(parsed.event, {
        log: { warn: (message, extra) => logger.warn(message, { ...extra }) },
        ...resolved,
      });
      logger.info('revoke event handled', { statuses: outcomes.map((o) => o.status) });
      return { status: 'handled', outcomes };
    } catch (error) {
      const text = describeError(error);
      if (error instanceof RevokeRequestError) {
        // Refused (already audited and alerted where there is a secret): a retry cannot help.
        logger.warn('revoke refused', { error: text });
        return { status: 'refused', error: text };
      }
      // The revoke failed part-way (audited and alerted): throw, so EventBridge tries again.
      logger.error('revoke event failed', { error: text });
      throw error;
    } finally {
      logger.resetKeys();
    }
  };
}

/** The deployed handler. */
export const handler = createRevokeEventsHandler(revokeDepsFromEnv);
