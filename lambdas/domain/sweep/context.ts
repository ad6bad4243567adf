// What every sweep action is given to do its work: the ports, and the audit and alert rules the
// sweep applies to all of them (an alert never stops the action it accompanies; an API call is
// audited whatever its outcome). Also the shape of one action (SweepActionDef).
import { type AlertName, alertOf, type AlertFields as CatalogFields } from '../alerts/catalog.ts';
import { describeError, errorCode } from '../errors.ts';
import type { AlertOutcome, AuditEntry, SecretDescription } from '../ports.ts';
import { TAG, type Trigger } from '../vocabulary.ts';
import type { SecretState } from './facts.ts';
import type { Fail, SweepDeps, SweepReport } from './report.ts';

/**
 * One thing the sweep looks for: when it applies to a secret (from the plan's state), and the
 * work, audit record and alert when it does. The table in actions/index.ts lists them all.
 */
export interface SweepActionDef<A extends { type: string }> {
  /** The actions of this type the plan finds for one secret (none, most of the time). Pure. */
  plan(state: SecretState): A[];
  /** Carries one out; throws on failure (the sweep records it and moves on). */
  run(c: ActionContext, secret: SecretDescription, action: A): Promise<void>;
}

export type AuditFields = Omit<AuditEntry, 'secretArn' | 'secretName' | 'trigger'>;
/** An alert's typed fields (alerts/catalog.ts) but the secret and trigger, which the sweep adds. */
export type AlertFields<N extends AlertName> = Omit<CatalogFields[N], 'secret' | 'trigger'>;

export interface ActionContext {
  deps: Omit<SweepDeps, 'cursor'>;
  rotationFunctionArn: string;
  /** An audit record about `secret`, with the sweep's trigger. */
  entry(secret: SecretDescription, e: AuditFields): AuditEntry;
  /**
   * Raises the catalog's alert `name`; a failing alerter is recorded but never stops the action
   * it accompanies.
   */
  alert<N extends AlertName>(
    secret: SecretDescription,
    name: N,
    fields: AlertFields<N>,
  ): Promise<AlertOutcome | 'failed'>;
  /**
   * Runs an API call and audits its outcome either way, except an error `leaveAlone` accepts:
   * then nothing happened, nothing is audited, and it returns false.
   */
  audited(
    secret: SecretDescription,
    e: Omit<AuditFields, 'outcome'>,
    call: () => Promise<unknown>,
    leaveAlone?: (error: unknown) => boolean,
  ): Promise<boolean>;
  /** Tag requests handed over by this sweep: each once, however often the secret comes up. */
  handedOver: Set<string>;
  /** Secrets this sweep started a rotation on: one RotateSecret per secret per pass. */
  rotationStarted: Set<string>;
  /**
   * The issuer confirmed a version's token revoked: the token index records when (set when the
   * sweep has one, #domain/isolation). Never throws.
   */
  tokenRevoked?(secret: SecretDescription, versionId: string): Promise<void>;
}

/** A new incident: published now, or recorded and on its way (the alert's outbox). */
export const isNew = (outcome: string) => outcome === 'sent' || outcome === 'queued';

/** What an audit record about a previous version names: the version, and its token where known. */
export const previousVersion = (versionId: string, tokenName: string | undefined) => ({
  versions: { previous: versionId },
  ...(tokenName ? { tokens: { previous: tokenName } } : {}),
});

export const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;

/**
 * RotateSecret refused because a rotation of the secret is already under way ("A previous
 * rotation isn't complete"): nothing failed, and the next sweep looks at the secret again.
 */
export const isRotationInProgress = (error: unknown) =>
  errorCode(error) === 'invalid-request' &&
  // The one InvalidRequestException of RotateSecret that means "wait", by its documented message.
  /previous rotation isn.t complete/i.test((error as Error).message);

/**
 * Starts a rotation now (RotateSecret, audited either way), unless this pass already started one
 * on the secret: one rotation per secret per pass. A rotation already under way is left to
 * finish and looked at again next sweep, neither audited nor a failure. True when it started one.
 */
export async function rotateNow(
  c: ActionContext,
  secret: SecretDescription,
  e: Omit<AuditFields, 'outcome'>,
  call: () => Promise<unknown>,
): Promise<boolean> {
  if (c.rotationStarted.has(secret.arn)) return false;
  // Claimed before the call, so that no other action in flight sends a second one meanwhile.
  c.rotationStarted.add(secret.arn);
  let started = false;
  try {
    started = await c.audited(secret, e, call, isRotationInProgress);
  } finally {
    if (!started) c.rotationStarted.delete(secret.arn);
  }
  return started;
}

export const lifespanOf = (secret: SecretDescription) => secret.tags[TAG.lifespan] ?? '';

export function actionContext(
  deps: Omit<SweepDeps, 'cursor'>,
  rotationFunctionArn: string,
  trigger: Trigger,
  report: SweepReport,
  fail: Fail,
): ActionContext {
  const entry = (secret: SecretDescription, e: AuditFields): AuditEntry => ({
    secretArn: secret.arn,
    secretName: secret.name,
    trigger,
    ...e,
  });
  return {
    deps,
    rotationFunctionArn,
    entry,
    handedOver: new Set<string>(),
    rotationStarted: new Set<string>(),
    async alert(secret, name, fields) {
      try {
        const about = { secret: { arn: secret.arn, name: secret.name }, trigger };
        const outcome = await deps.alerter.send(
          alertOf(name, { ...fields, ...about } as CatalogFields[typeof name]),
        );
        if (outcome === 'sent') report.alertsSent++;
        if (outcome === 'queued') report.alertsQueued++;
        return outcome;
      } catch (error) {
        // Neither recorded nor published: nothing marks the incident, so the next sweep alerts again.
        fail(secret, 'alert', error);
        return 'failed' as const;
      }
    },
    async audited(secret, e, call, leaveAlone) {
      try {
        await call();
      } catch (error) {
        if (leaveAlone?.(error)) return false;
        await deps.audit.append(
          entry(secret, { ...e, outcome: 'failed', error: describeError(error) }),
        );
        throw error;
      }
      await deps.audit.append(entry(secret, { ...e, outcome: 'succeeded' }));
      return true;
    },
  };
}
