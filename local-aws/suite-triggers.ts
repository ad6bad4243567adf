// The stack's EventBridge rules and sweep schedule for the embedded suite (suite.ts): the rules
// infra/token-rotation.ts deploys, matched as EventBridge matches them, and the sweep and the
// audit anchor run on the local clock, each on its own schedule at the sweep interval.
import { logger } from '#commons/logger';
import { describeError } from '#domain/errors';
import { EXPOSED_CREDENTIAL_CODES } from '#domain/revoke-events';
import { TAG } from '#domain/vocabulary';
import type { LocalAws } from './index.ts';
import type { InstalledSuite, InstallOptions } from './suite.ts';

/** One EventBridge rule of the stack: its construct ID, the pattern it matches, the function it invokes. */
export interface SuiteRule {
  id: string;
  pattern: EventPattern;
  target: string;
}

/** An EventBridge event pattern, in the template's JSON shape (`detail-type`). */
export type EventPattern = { [field: string]: readonly unknown[] | EventPattern };

const SECRETS_MANAGER_API_CALL = {
  source: ['aws.secretsmanager'],
  'detail-type': ['AWS API Call via CloudTrail'],
} as const;

/** The rules of infra/token-rotation.ts, by construct ID, with the patterns it gives them. */
export function suiteRules(functions: InstalledSuite['functions']): SuiteRule[] {
  return [
    {
      id: 'SecretsManagerRotationEvents',
      pattern: {
        source: ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed', 'RotationAbandoned'],
        },
      },
      target: functions.secretsManagerEvents,
    },
    {
      id: 'TagEventsRule',
      pattern: {
        ...SECRETS_MANAGER_API_CALL,
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['TagResource', 'UntagResource', 'CreateSecret'],
        },
      },
      target: functions.tagEvents,
    },
    {
      id: 'RevokeTagRule',
      pattern: {
        ...SECRETS_MANAGER_API_CALL,
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['TagResource'],
          requestParameters: { tags: { key: [TAG.revoke] } },
        },
      },
      target: functions.revokeEvents,
    },
    {
      id: 'RevokeHealthRule',
      pattern: {
        source: ['aws.health'],
        'detail-type': ['AWS Health Event'],
        detail: { eventTypeCode: [...EXPOSED_CREDENTIAL_CODES] },
      },
      target: functions.revokeEvents,
    },
  ];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Whether `event` matches `pattern` as EventBridge matches the plain patterns the stack uses:
 * a list of values matches a field equal to one of them (or an array holding one); a nested
 * pattern matches an object, or an array of objects when any element does.
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const field = isRecord(event) ? event[key] : undefined;
    if (Array.isArray(rule)) {
      return rule.some((value) => (Array.isArray(field) ? field.includes(value) : field === value));
    }
    const candidates = Array.isArray(field) ? field : [field];
    return candidates.some((item) => isRecord(item) && matchesPattern(rule as EventPattern, item));
  });
}

/** The scheduled functions: the sweep, and the audit anchor when the stack has its bucket. */
export interface SuiteSchedules {
  functionArn: string;
  intervalMs: number;
  /** The audit-anchor function, on its own schedule at the same rate. */
  anchorFunctionArn?: string;
}

/**
 * Delivers matching bus events to each rule's function, and runs the sweep (then the audit anchor,
 * whose schedule fires at the same times) every interval on the local clock with the Scheduler's
 * input. A delivery that throws is kept in `aws.events.failures`
 * (EventBridge would retry it; the sweep catches up whatever it missed). Returns a disconnect.
 */
function connect(aws: LocalAws, wire: { rules: SuiteRule[]; sweep?: SuiteSchedules }): () => void {
  const stops = wire.rules.map((rule) =>
    aws.events.listen(async (event) => {
      if (matchesPattern(rule.pattern, event)) await aws.functions.invoke(rule.target, event);
    }),
  );
  const { sweep } = wire;
  if (sweep) {
    stops.push(
      aws.clock.every(sweep.intervalMs, async (at) => {
        try {
          await aws.functions.invoke(sweep.functionArn, { scheduledAt: at.toISOString() });
        } catch (error) {
          // Scheduler retries and the SweepCompleted alarm would follow; the next sweep carries on.
          logger.error('scheduled sweep failed', { error: describeError(error) });
        }
        // What the sweep started (RotateSecret runs, tag changes and their events) finishes before
        // the clock moves on, as minutes of real time would let it.
        for (let round = 0; round < 3; round++) await aws.idle();
      }),
    );
  }
  const anchor = sweep?.anchorFunctionArn;
  if (sweep && anchor) {
    // Registered after the sweep's: at the same time the clock fires it once the sweep is done.
    stops.push(
      aws.clock.every(sweep.intervalMs, async (at) => {
        try {
          await aws.functions.invoke(anchor, { scheduledAt: at.toISOString() });
        } catch (error) {
          logger.error('scheduled audit anchor failed', { error: describeError(error) });
        }
      }),
    );
  }
  return () => {
    for (const stop of stops) stop();
  };
}

/** Connects what `triggers` asks for: the rules, the sweep schedule, both or neither. */
export function connectTriggers(
  aws: LocalAws,
  option: InstallOptions['triggers'],
  rules: SuiteRule[],
  sweep: SuiteSchedules,
): () => void {
  const triggers =
    typeof option === 'object' ? option : { rules: option ?? false, sweep: option ?? false };
  return connect(aws, {
    rules: triggers.rules ? rules : [],
    ...(triggers.sweep && { sweep }),
  });
}
