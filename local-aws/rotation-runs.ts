// Rotations as Secrets Manager runs them: the rotation function's four steps, the whole rotation
// retried on failure, RotateSecret's test-only run, and the scheduled windows on the local clock.
import { randomBytes, randomUUID } from 'node:crypto';
import { serviceEvent } from './cloudtrail-events.ts';
import { nextWindow, parseRules, type RotationRules, type Window } from './rotation-schedule.ts';
import type { SecretTable } from './secret-table.ts';
import { holderOf, pendingRotation, roomForVersion } from './secret-versions.ts';
import {
  CURRENT,
  checkToken,
  describe,
  optionalString,
  PENDING,
  type RotationRecord,
  type RotationRun,
  type Secret,
  type SecretsManagerOptions,
  type WindowPoint,
} from './secrets-manager-model.ts';
import { AwsError } from './wire.ts';

const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

/** The emulator's settings a rotation reads when it runs (tests change them on the emulator). */
export interface RotationSettings {
  readonly rotationAttempts: number;
  readonly rotationWindowPoint: WindowPoint;
}

/** The rotations of one emulator's secrets; the emulator owns the secrets and the records. */
export class RotationRuns {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly options: SecretsManagerOptions,
    private readonly settings: RotationSettings,
    private readonly secrets: SecretTable<Secret>,
    private readonly rotations: RotationRecord[],
  ) {}

  /** Resolves when no rotation is running (RotateSecret returns before its rotation ends, as on AWS). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await this.options.events.idle();
  }

  /** RotateSecret on `secret`: configures rotation, then rotates (or tests the function). */
  rotateSecret(secret: Secret, input: Record<string, unknown>) {
    const token = optionalString(input, 'ClientRequestToken', 64);
    checkToken(token);
    const lambdaArn = optionalString(input, 'RotationLambdaARN', 2048) ?? secret.rotationLambdaArn;
    const rules = (input.RotationRules as RotationRules | undefined) ?? secret.rotationRules;
    if (input.RotationRules !== undefined) parseRules(input.RotationRules as RotationRules);
    if (!lambdaArn) {
      throw new AwsError(
        'InvalidRequestException',
        `No Lambda rotation function ARN is associated with the secret ${secret.name}.`,
      );
    }
    // "If the AWSPENDING staging label is present but not attached to the same version as
    // AWSCURRENT, then any later invocation of RotateSecret assumes that a previous rotation
    // request is still in progress and returns an error."
    if (pendingRotation(secret)) {
      throw new AwsError(
        'InvalidRequestException',
        "A previous rotation isn't complete. That rotation will be reattempted.",
      );
    }
    // "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function
    // policy grants access to the principal secretsmanager.amazonaws.com" is RotateSecret's
    // AccessDeniedException for a function that does not exist or whose resource-based policy
    // does not let Secrets Manager invoke it (user guide, troubleshoot_rotation.html; the
    // rotation function needs "a resource-based policy ... secretsmanager.amazonaws.com",
    // rotating-secrets-required-permissions-function.html).
    if (!this.canInvoke(lambdaArn, secret.arn)) {
      throw new AwsError(
        'AccessDeniedException',
        'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
      );
    }
    if (token !== undefined && secret.versions.has(token)) {
      throw new AwsError(
        'InvalidRequestException',
        `A version with ClientRequestToken ${token} already exists for the secret ${secret.name}.`,
      );
    }
    // The AWSPENDING version RotateSecret creates counts against the version quota too.
    if (token === undefined || !secret.versions.has(token)) roomForVersion(secret, this.now());
    const now = this.now();
    secret.rotationEnabled = true;
    secret.rotationLambdaArn = this.options.functions.arnOf(lambdaArn);
    if (rules) secret.rotationRules = rules;
    secret.lastChanged = now;
    const immediately = input.RotateImmediately !== false;
    if (secret.rotationRules) {
      // The schedule counts from the last rotation; until there is one, from now.
      let window = nextWindow(secret.rotationRules, secret.lastRotated ?? now);
      if (window.end <= now) window = nextWindow(secret.rotationRules, now);
      secret.window = window;
    } else {
      delete secret.window; // a one-off rotation with no schedule
    }
    const versionId = token ?? randomUUID();
    if (!immediately) {
      // "If you don't immediately rotate the secret, Secrets Manager tests the rotation
      // configuration by running the testSecret step of the Lambda rotation function. The test
      // creates an AWSPENDING version of the secret and then removes it." Whatever the test
      // says, rotation stays configured for the next window (AWS doesn't document otherwise).
      this.start(secret, versionId, 'test');
      return { ARN: secret.arn, Name: secret.name };
    }
    this.start(secret, versionId, 'RotateSecret');
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
  }

  cancelRotateSecret(secret: Secret) {
    // "Turns off automatic rotation, and if a rotation is currently in progress, cancels the
    // rotation." Labels stay as they are: "it can leave the VersionStage labels in an
    // unexpected state. You might need to remove the staging label AWSPENDING." The rotation
    // function and schedule stay on record (DescribeSecret shows "the previous rotation schedule").
    secret.rotationEnabled = false;
    delete secret.window;
    secret.lastChanged = this.now();
    const pending = pendingRotation(secret);
    if (secret.run && !secret.run.stopped) {
      secret.run.stopped = 'cancelled';
      serviceEvent(this.options, 'RotationAbandoned', secret);
    }
    return { ARN: secret.arn, Name: secret.name, ...(pending ? { VersionId: pending.id } : {}) };
  }

  /** Starts a rotation (or, with trigger `test`, only its testSecret step) on version `token`. */
  start(secret: Secret, token: string, trigger: RotationRecord['trigger']): void {
    const now = this.now();
    if (!secret.versions.has(token)) {
      // The version exists, labelled AWSPENDING, before the function runs; it has no value until
      // the function's createSecret puts one (GetSecretValue on it: ResourceNotFoundException).
      // One version holds a label at a time: AWSPENDING left on AWSCURRENT by the last rotation
      // moves to the new version.
      holderOf(secret, PENDING)?.stages.delete(PENDING);
      secret.versions.set(token, { id: token, stages: new Set([PENDING]), created: now });
    }
    const run: RotationRun = { token, rotationToken: randomBytes(48).toString('base64url') };
    secret.run = run;
    const record: RotationRecord = {
      secretArn: secret.arn,
      token,
      trigger,
      startedAt: now,
      outcome: 'running',
      attempts: [],
    };
    this.rotations.push(record);
    const work = (
      trigger === 'test' ? this.testRotation(secret, run, record) : this.rotate(secret, run, record)
    )
      .catch((error: unknown) => {
        record.outcome = 'failed';
        record.attempts.push({ step: 'emulator', error: describe(error) });
      })
      .finally(() => {
        if (secret.run === run) delete secret.run;
        this.inFlight.delete(work);
      });
    this.inFlight.add(work);
  }

  // ---- reaching rotation functions: the in-process registry first (tests that inject a
  // clock register there), else a function deployed through the Lambda service ----

  // In-process stand-ins stand for functions the suite deployed with their permission (as the
  // stack's rotation function has one); a function deployed through the Lambda API is invoked
  // only if its resource-based policy allows Secrets Manager, as on AWS.
  canInvoke(arn: string, secretArn: string): boolean {
    if (this.options.functions.has(arn)) return true;
    return this.options.lambda?.allows(arn, 'secretsmanager.amazonaws.com', secretArn) ?? false;
  }

  private invokeFunction(arn: string, event: unknown): Promise<unknown> {
    const { functions, lambda } = this.options;
    if (!functions.has(arn) && lambda?.has(arn)) return lambda.invoke(arn, event);
    return functions.invoke(arn, event);
  }

  private invokeStep(secret: Secret, run: RotationRun, step: string) {
    return this.invokeFunction(secret.rotationLambdaArn!, {
      SecretId: secret.arn,
      ClientRequestToken: run.token,
      Step: step,
      RotationToken: run.rotationToken,
    });
  }

  /**
   * The four steps in order, the whole rotation retried from createSecret with the same token
   * on any failure ("If rotation fails, Secrets Manager retries the entire rotation process
   * multiple times"). After the last attempt fails: RotationFailed, and AWSPENDING stays where
   * it is ("the AWSPENDING staging label might be attached to an empty secret version").
   */
  private async rotate(secret: Secret, run: RotationRun, record: RotationRecord): Promise<void> {
    // Asynchronous, as on AWS: RotateSecret has answered before the first step runs.
    await Promise.resolve();
    serviceEvent(this.options, 'RotationStarted', secret);
    let failure = '';
    for (let attempt = 1; attempt <= this.settings.rotationAttempts; attempt++) {
      let failedStep: string | undefined;
      for (const step of STEPS) {
        if (run.stopped) {
          record.outcome = run.stopped;
          return;
        }
        try {
          await this.invokeStep(secret, run, step);
        } catch (error) {
          failedStep = step;
          record.attempts.push({ step, error: describe(error) });
          failure = `Error when executing lambda ${secret.rotationLambdaArn} during ${step} step`;
          break;
        }
      }
      if (run.stopped) {
        record.outcome = run.stopped;
        return;
      }
      if (failedStep) continue;
      // Our choice, stricter than anything AWS documents: a rotation whose finishSecret returned
      // without making the new version AWSCURRENT has not rotated anything, so it counts as failed.
      if (!secret.versions.get(run.token)?.stages.has(CURRENT)) {
        record.attempts.push({
          step: 'finishSecret',
          error: `finishSecret returned but version ${run.token} is not AWSCURRENT`,
        });
        failure = `Lambda ${secret.rotationLambdaArn} finished without moving AWSCURRENT to version ${run.token}`;
        continue;
      }
      record.attempts.push({ step: 'finishSecret' });
      const now = this.now();
      secret.lastRotated = now;
      secret.lastChanged = now;
      if (secret.rotationEnabled && secret.rotationRules)
        secret.window = nextWindow(secret.rotationRules, now);
      record.outcome = 'succeeded';
      serviceEvent(this.options, 'RotationSucceeded', secret);
      return;
    }
    record.outcome = 'failed';
    serviceEvent(this.options, 'RotationFailed', secret, failure);
  }

  private async testRotation(
    secret: Secret,
    run: RotationRun,
    record: RotationRecord,
  ): Promise<void> {
    await Promise.resolve();
    serviceEvent(this.options, 'TestRotationStarted', secret);
    try {
      await this.invokeStep(secret, run, 'testSecret');
      record.attempts.push({ step: 'testSecret' });
      record.outcome = 'succeeded';
      serviceEvent(this.options, 'TestRotationSucceeded', secret);
    } catch (error) {
      record.attempts.push({ step: 'testSecret', error: describe(error) });
      record.outcome = 'failed';
      serviceEvent(
        this.options,
        'TestRotationFailed',
        secret,
        `Error when executing lambda ${secret.rotationLambdaArn} during testSecret step`,
      );
    } finally {
      secret.versions.get(run.token)?.stages.delete(PENDING);
    }
  }

  /** The moment inside a window that a scheduled rotation runs. */
  private firePoint(window: Window): number {
    return this.settings.rotationWindowPoint === 'start'
      ? window.start.getTime()
      : window.end.getTime() - 1;
  }

  nextScheduled(): Date | undefined {
    let earliest: number | undefined;
    for (const secret of this.secretsNow()) {
      if (!secret.rotationEnabled || !secret.window || secret.run || secret.deletedDate) continue;
      const at = this.firePoint(secret.window);
      if (earliest === undefined || at < earliest) earliest = at;
    }
    return earliest === undefined ? undefined : new Date(earliest);
  }

  /** Starts every rotation due at `at` and waits for them, so the clock moves on only afterwards. */
  async runScheduled(at: Date): Promise<void> {
    for (const secret of [...this.secrets.values()]) {
      if (!secret.rotationEnabled || !secret.window || secret.run || secret.deletedDate) continue;
      if (this.firePoint(secret.window) > at.getTime()) continue;
      // The window is used up whatever happens; a success reschedules from its own time.
      secret.window = nextWindow(secret.rotationRules!, at);
      if (!secret.rotationLambdaArn || !this.canInvoke(secret.rotationLambdaArn, secret.arn)) {
        serviceEvent(
          this.options,
          'RotationFailed',
          secret,
          `Secrets Manager cannot invoke the Lambda function ${secret.rotationLambdaArn}`,
        );
        continue;
      }
      // A rotation left incomplete is reattempted with its own token ("That rotation will be reattempted").
      const stuck = pendingRotation(secret);
      this.start(secret, stuck?.id ?? randomUUID(), 'schedule');
    }
    await this.idle();
  }

  private now(): Date {
    return this.options.clock.now();
  }

  private *secretsNow(): Iterable<Secret> {
    this.secrets.purge(this.now());
    yield* this.secrets.values();
  }
}
