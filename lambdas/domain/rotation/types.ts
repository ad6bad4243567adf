// The rotation's request, its dependencies, what a failed step throws, and what one invocation
// knows along the way: shared by the steps (create, set, test, finish) and failure handling.

import type { FingerprintKeySource } from '#domain/isolation/key';
import type { AuditAlongside } from '#domain/isolation/ports';
import type { IssuerFor } from '#domain/kinds/registry';
import type {
  Alerter,
  AuditLog,
  Clock,
  Issuer,
  RevokeLock,
  RevokeLockStore,
  SecretDescription,
  SecretStore,
} from '#domain/ports';
import type { Step, Trigger } from '#domain/vocabulary';

export interface RotationRequest {
  /** The secret's ARN (or name), as Secrets Manager sends it. */
  secretId: string;
  /** The ClientRequestToken: the version ID of the rotation's AWSPENDING version. */
  token: string;
  step: Step;
  /** Passed on to PutSecretValue, which Secrets Manager then accepts from this rotation only. */
  rotationToken?: string;
  trigger: Trigger;
}

export interface RotationDeps {
  store: SecretStore;
  audit: AuditLog;
  alerter: Alerter;
  issuerFor: IssuerFor;
  clock: Clock;
  /**
   * The emergency revoke's lock, read by createSecret, setSecret and finishSecret so that a
   * rotation never undoes a revoke (see `revokeSince`). Absent: no revoke shares this secret's
   * table.
   */
  revokes?: Pick<RevokeLockStore, 'read'>;
  /**
   * The token index (minted-index.ts): createSecret records the token it minted in the same write
   * as its audit record. Absent: the stack has no index, and the sweep indexes new tokens.
   */
  tokenIndex?: {
    keySecretArn: string;
    /** Per container: read once, with AWSCURRENT (currentWithKey). */
    key: FingerprintKeySource;
    /**
     * The AWSCURRENT string values of several secrets in one call (BatchGetSecretValue), by the
     * IDs given; one that could not be read is absent. Without it, the key is never read here.
     */
    currentValues?(secretIds: string[]): Promise<Map<string, string>>;
    /** BatchGetSecretValue failed in this container: not tried again. */
    batchFailed?: boolean;
  };
}

/** What a failed step throws: its message is the scrubbed description Secrets Manager and the logs see. */
export class RotationStepFailed extends Error {
  override readonly name = 'RotationStepFailed';
  constructor(
    message: string,
    /** The failure's machine-readable reason (RotationError.reason), as audited. */
    readonly reason: string,
  ) {
    super(message);
  }
}

/** What one invocation knows, for its audit records and, on failure, its alert. */
export interface StepState {
  arn: string;
  name: string;
  versions: Record<string, string>;
  tokens: Record<string, string>;
  detail: Record<string, string | boolean>;
  /** Every value read or written in this invocation: redacted from any error text. */
  seen: Set<string>;
  /** The token this invocation minted or found, for the token index (minted-index.ts). */
  tokenSeen?: AuditAlongside['tokenSeen'];
  /** The staging labels as this invocation's DescribeSecret read them. */
  stagesRead?: Record<string, string[]>;
  /** Set before this invocation asks to move a label: from then on, the labels must be read again. */
  movingStage?: boolean;
  /**
   * The revoke lock as read before the step's first change (see `revokeSince`): before
   * DescribeSecret in createSecret and finishSecret, before reading the new token in setSecret.
   */
  revokeBefore?: { lock: RevokeLock | undefined };
}

/** One step's work, once the opening checks passed. */
export type Work = (
  secret: SecretDescription,
  issuer: Issuer,
  request: RotationRequest,
  deps: RotationDeps,
  state: StepState,
  // biome-ignore lint/suspicious/noConfusingVoidType: most steps return nothing; testSecret returns 'skipped' for Secrets Manager's configuration test
) => Promise<void | 'skipped' | typeof NOTHING_CHANGED>;

/**
 * What a step returns when it changed nothing and found nothing an auditor asks about: setSecret
 * of a kind with nothing to activate, testSecret that verified the new token (finishSecret runs
 * only after it, so its record says the test passed). No record is written for it.
 */
export const NOTHING_CHANGED = 'nothing-changed';
