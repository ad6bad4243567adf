// EventBridge target for the emergency revoke's event triggers: a CloudTrail TagResource that sets
// token-rotation:revoke, and AWS Health exposed-credential events. Checks the event and hands it
// to domain/revoke-events.ts; an event it does not understand is logged and dropped.

import { type Ignored, ignoredEvent, lambdaHandler } from '#commons/handler';
import { logger } from '#commons/logger';
import { describeError } from '#domain/errors';
import { RevokeRequestError } from '#domain/revoke/index';
import {
  handleRevokeEvent,
  parseRevokeEvent,
  type RevokeEventDeps,
  type RevokeEventOutcome,
} from '#domain/revoke-events';
import { revokeDepsFromEnv } from '#handlers/revoke';

export type RevokeEventsResult =
  | { status: 'handled'; outcomes: RevokeEventOutcome[] }
  | Ignored
  | { status: 'refused'; error: string };

/** A handler over `deps`, or over what `deps()` returns on the first event we understand. */
export function createRevokeEventsHandler(deps: RevokeEventDeps | (() => RevokeEventDeps)) {
  return lambdaHandler({
    name: 'revoke-events',
    deps,
    // The revoke failed part-way (audited and alerted): thrown, so EventBridge tries again.
    failed: 'revoke event failed',
    recover: (error): RevokeEventsResult | undefined => {
      if (!(error instanceof RevokeRequestError)) return undefined;
      // Refused (already audited and alerted where there is a secret): a retry cannot help.
      const text = describeError(error);
      logger.warn('revoke refused', { error: text });
      return { status: 'refused', error: text };
    },
    run: async (event, invocation): Promise<RevokeEventsResult> => {
      const parsed = parseRevokeEvent(event);
      if (!parsed.ok) return ignoredEvent('asks for no revoke', parsed.why);
      logger.appendKeys(
        parsed.event.kind === 'tag'
          ? { trigger: 'tag', secretId: parsed.event.secretId, eventId: parsed.event.eventId }
          : { trigger: 'health', healthEvent: parsed.event.code, eventArn: parsed.event.eventArn },
      );
      const outcomes = await handleRevokeEvent(parsed.event, {
        log: { warn: (message, extra) => logger.warn(message, { ...extra }) },
        ...invocation.deps(),
      });
      logger.info('revoke event handled', { statuses: outcomes.map((o) => o.status) });
      return { status: 'handled', outcomes };
    },
  });
}

/** The deployed handler. */
export const handler = createRevokeEventsHandler(revokeDepsFromEnv);
