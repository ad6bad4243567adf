// One secret on the embedded local AWS with a rotation in flight, and the real rotation steps,
// emergency revoke and sweep run against it as actors of an Interleaver (interleave.ts): every
// Secrets Manager, lock, tagging and issuer call is a point where another actor may cut in. The
// issuer is an in-process SaaS that knows which of its tokens are valid, so "revoked" can be read
// back from it rather than assumed. `check()` states what must hold after any interleaving.
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { DynamoRevokeLockStore } from '#adapters/dynamodb-revoke-locks';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { RotationError } from '#domain/errors';
import type { Issuer, RevokeLockStore, SecretCatalog, SecretStore } from '#domain/ports';
import {
  type RevokeMode,
  type RevokeOutcome,
  readQuarantineNotice,
  revokeSecret,
} from '#domain/revoke/index';
import { type RotationDeps, rotateStep } from '#domain/rotation/index';
import { runSweep } from '#domain/sweep/index';
import { STAGE, TAG } from '#domain/vocabulary';
import type { LocalAws, PublishedMessage } from '#local-aws/index';
import type { InstalledSuite } from '#local-aws/suite';
import { gated, type Interleaver } from './interleave.ts';

const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
const ISSUER_CALLS = ['mint', 'activate', 'verify', 'revoke'] as const;

/**
 * A SaaS that issues API keys: `{"keyId", "token"}` values, named by key ID. It knows which keys
 * are valid; `revoke` invalidates one for good, `verify` refuses any key that is not valid.
 */
export function saasIssuer() {
  let next = 0;
  const valid = new Set<string>();
  const revoked = new Set<string>();
  const byVersion = new Map<string, string>();
  const keyOf = (value: string) => {
    const parsed = JSON.parse(value) as { keyId?: unknown };
    if (typeof parsed.keyId !== 'string') throw new Error('expected a keyId field, found none');
    return parsed.keyId;
  };
  const issue = (owner: string) => {
    const keyId = `key-${++next}`;
    valid.add(keyId);
    return JSON.stringify({ owner, keyId, token: `saas_${randomUUID().replace(/-/g, '')}` });
  };
  const issuer: Issuer = {
    kind: 'saas',
    mintCreates: true,
    mintIdempotent: true,
    async mint(ctx) {
      const { owner } = JSON.parse(ctx.current) as { owner?: unknown };
      if (typeof owner !== 'string') {
        throw new RotationError(
          ctx.secretName,
          'mint',
          'expected an owner field, found none',
          'malformed-value',
        );
      }
      // Idempotent per version ID, as the issuer contract asks (docs/custom-issuers.md): asked
      // again for a version whose reply was lost, it returns the key it made then.
      const made = byVersion.get(ctx.versionId) ?? issue(owner);
      byVersion.set(ctx.versionId, made);
      return made;
    },
    async verify(ctx) {
      const keyId = keyOf(ctx.pending);
      if (!valid.has(keyId)) {
        throw new RotationError(
          ctx.secretName,
          'testSecret',
          `expected key ${keyId} to be valid, found it revoked`,
          'issuer-refused',
        );
      }
    },
    async revoke(ctx) {
      const keyId = keyOf(ctx.value);
      valid.delete(keyId);
      revoked.add(keyId);
    },
    name: (value) => keyOf(value),
  };
  return { issuer, valid, revoked, issue, keyOf };
}

/**
 * The local AWS a world runs on: the embedded one, or a session's view of the served one whose
 * `sns.published` is read back at each `idle()` (test/integration/revoke-races.test.ts).
 */
export type RaceHost = Pick<LocalAws, 'idle'> & {
  clock: { now(): Date };
  sns: { readonly published: readonly PublishedMessage[] };
};

/** What a world uses of the installed suite (an InstalledSuite, or a session's SuiteAt). */
export type RaceSuite = Pick<
  InstalledSuite,
  | 'secretsManager'
  | 'store'
  | 'dynamo'
  | 'tableName'
  | 'rotationDeps'
  | 'revokeDeps'
  | 'sweepDeps'
  | 'sweepIntervalMs'
>;

export interface WorldOutcome {
  rotation: 'succeeded' | 'failed' | 'not run';
  revokes: (RevokeOutcome | Error)[];
  sweep: 'ran' | Error | 'not run';
}

export class RaceWorld {
  readonly saas = saasIssuer();
  arn = '';
  name = '';
  /** The version the secret was created with: its key is the leaked one. */
  leakedVersion = '';
  leakedKey = '';
  /** The version ID of the rotation in flight (AWSPENDING, no value yet). */
  pendingVersion = '';
  readonly outcome: WorldOutcome = { rotation: 'not run', revokes: [], sweep: 'not run' };
  /** Each revoke actor's outcome, by actor name. */
  readonly revokeOf = new Map<string, RevokeOutcome | Error>();

  constructor(
    readonly aws: RaceHost,
    readonly suite: RaceSuite,
    /** Registered once per file: a rotation function that does nothing, to leave a rotation staged. */
    readonly idleRotationArn: string,
  ) {}

  /** A managed secret holding a valid key, with a rotation staged (AWSPENDING, no value yet). */
  async setUp(label: string, tags: Record<string, string> = {}): Promise<void> {
    const value = this.saas.issue('payments-team');
    const out = await this.suite.secretsManager.send(
      new CreateSecretCommand({
        Name: `race/${label}-${randomUUID().slice(0, 8)}`,
        SecretString: value,
        Tags: Object.entries({
          [TAG.lifespan]: '7d',
          [TAG.kind]: 'lambda:saas',
          [TAG.grace]: '0m',
          ...tags,
        }).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    this.arn = out.ARN!;
    this.name = out.Name!;
    this.leakedVersion = out.VersionId!;
    this.leakedKey = this.saas.keyOf(value);
    // Secrets Manager creates the rotation's AWSPENDING version before any step runs; a function
    // that does nothing leaves it there, as a rotation whose steps have not run yet.
    this.pendingVersion = randomUUID();
    await this.suite.secretsManager.send(
      new RotateSecretCommand({
        SecretId: this.arn,
        RotationLambdaARN: this.idleRotationArn,
        ClientRequestToken: this.pendingVersion,
        RotateImmediately: true,
      }),
    );
    await this.aws.idle();
  }

  private issuerFor(gate: (call: string) => Promise<void>) {
    const issuer = gated(this.saas.issuer, gate, 'issuer', ISSUER_CALLS);
    return () => issuer;
  }

  private ports(actor: string, run: Interleaver) {
    const gate = (call: string) => run.gate(actor, call);
    return {
      store: gated<SecretStore>(this.suite.store, gate, 'sm'),
      catalog: gated<SecretCatalog>(
        new SecretsManagerCatalog(this.suite.secretsManager),
        gate,
        'sm',
      ),
      locks: gated<RevokeLockStore>(
        new DynamoRevokeLockStore(this.suite.dynamo, this.suite.tableName),
        gate,
        'lock',
      ),
      issuerFor: this.issuerFor(gate),
    };
  }

  /** The rotation's four steps for the staged version, as Secrets Manager sends them, until one fails. */
  rotation(run: Interleaver, actor = 'rotation'): Promise<void> {
    return run.spawn(actor, async () => {
      const { store, issuerFor, locks } = this.ports(actor, run);
      const deps: RotationDeps = { ...this.suite.rotationDeps, store, issuerFor, revokes: locks };
      for (const step of STEPS) {
        try {
          await rotateStep(
            {
              secretId: this.arn,
              token: this.pendingVersion,
              step,
              trigger: { source: 'secretsmanager' },
            },
            deps,
          );
        } catch {
          this.outcome.rotation = 'failed';
          return;
        }
      }
      this.outcome.rotation = 'succeeded';
    });
  }

  /** An emergency revoke from the runbook form. */
  revoke(
    run: Interleaver,
    mode: RevokeMode,
    options: {
      actor?: string;
      reason?: string;
      trigger?: 'runbook' | 'console' | 'tag' | 'health';
    } = {},
  ): Promise<void> {
    const actor = options.actor ?? 'revoke';
    return run.spawn(actor, async () => {
      const ports = this.ports(actor, run);
      try {
        const outcome = await revokeSecret(
          {
            secretId: this.arn,
            reason: options.reason ?? `key leaked (${mode})`,
            mode,
            trigger: {
              source: options.trigger ?? 'runbook',
              principal: 'arn:aws:iam::123456789012:user/oncall',
            },
          },
          { ...this.suite.revokeDeps, ...ports, catalog: ports.catalog },
        );
        this.outcome.revokes.push(outcome);
        this.revokeOf.set(actor, outcome);
      } catch (error) {
        this.outcome.revokes.push(error as Error);
        this.revokeOf.set(actor, error as Error);
      }
    });
  }

  /** One sweep of every managed secret (this one among them), grace having run out. */
  sweep(run: Interleaver, actor = 'sweep'): Promise<void> {
    return run.spawn(actor, async () => {
      const { store, catalog, issuerFor } = this.ports(actor, run);
      try {
        await runSweep(
          {
            ...this.suite.sweepDeps,
            store,
            catalog,
            issuerFor,
            pace: (call) => call(),
            log: undefined,
          },
          {
            rotationFunctionArn: this.idleRotationArn,
            sweepIntervalMs: this.suite.sweepIntervalMs,
            deadline: new Date(this.aws.clock.now().getTime() + 3_600_000),
          },
        );
        this.outcome.sweep = 'ran';
      } catch (error) {
        this.outcome.sweep = error as Error;
      }
    });
  }

  /** Deletes the secret for good, so that later sweeps do not list it. */
  async tearDown(): Promise<void> {
    await this.suite.secretsManager.send(
      new DeleteSecretCommand({ SecretId: this.arn, ForceDeleteWithoutRecovery: true }),
    );
  }

  /** Version ID to labels, and each labelled version's value. */
  async read() {
    const secret = await this.suite.store.describe(this.arn);
    const values: Record<string, string | undefined> = {};
    for (const id of Object.keys(secret.versions)) {
      values[id] = await this.suite.store.getValue(this.arn, { versionId: id });
    }
    return { versions: secret.versions, values, tags: secret.tags };
  }

  /** The key a value holds, or undefined (no value, a quarantine notice). */
  keyIn(value: string | undefined): string | undefined {
    if (value === undefined || readQuarantineNotice(value)) return undefined;
    return this.saas.keyOf(value);
  }

  /** Alerts published about this secret: event names, in order. */
  alerts(): string[] {
    return this.aws.sns.published
      .filter((m) => m.attributes.secret?.StringValue === this.name)
      .map((m) => m.attributes.event?.StringValue ?? '?');
  }

  /** Alerts about this secret, named by name (or by ARN, where the revoke failed before reading it). */
  alertTexts(event: string): string[] {
    return this.aws.sns.published
      .filter(
        (m) =>
          [this.name, this.arn].includes(m.attributes.secret?.StringValue ?? '') &&
          m.attributes.event?.StringValue === event,
      )
      .map((m) => m.message);
  }

  /**
   * What must hold after any interleaving, as a list of broken promises (empty when all hold):
   * at most one AWSCURRENT; after a completed revoke, the leaked key and every key a staged version
   * held then are invalid at the issuer, no staged version holds an invalid key, AWSCURRENT holds
   * a valid key (reissue) or the quarantine notice (quarantine), and no AWSPENDING is left off
   * AWSCURRENT; every failed revoke and rotation was alerted.
   */
  async check(): Promise<string[]> {
    const broken: string[] = [];
    const { versions, values } = await this.read();
    const holders = (stage: string) =>
      Object.keys(versions).filter((id) => versions[id]!.includes(stage));
    const current = holders(STAGE.current);
    if (current.length !== 1) broken.push(`expected one AWSCURRENT, found ${current.length}`);
    const completed = this.outcome.revokes.filter(
      (o): o is Extract<RevokeOutcome, { status: 'completed' }> =>
        !(o instanceof Error) && o.status === 'completed',
    );
    const failed = this.outcome.revokes.filter((o) => o instanceof Error);
    const alerts = this.alerts();
    if (failed.length > 0 && !alerts.includes('revoke.failed')) {
      broken.push(
        `a revoke failed (${failed.map((e) => (e as Error).message).join('; ')}) with no revoke.failed alert`,
      );
    }
    if (this.outcome.rotation === 'failed' && !alerts.includes('rotation.failed')) {
      broken.push('a rotation step failed with no rotation.failed alert');
    }
    if (completed.length > 0) {
      const last = completed.at(-1)!;
      if (this.saas.valid.has(this.leakedKey))
        broken.push(`the leaked key ${this.leakedKey} still works`);
      const currentValue = values[current[0] ?? ''];
      const quarantined =
        currentValue !== undefined && readQuarantineNotice(currentValue) !== undefined;
      const wantQuarantine = completed.some((c) => c.mode === 'quarantine');
      if (wantQuarantine && !quarantined) {
        broken.push(
          `expected the secret quarantined, found AWSCURRENT holding key ${this.keyIn(currentValue)}`,
        );
      }
      if (!quarantined) {
        const key = this.keyIn(currentValue);
        if (!key || !this.saas.valid.has(key))
          broken.push(`expected AWSCURRENT to hold a valid key, found ${key ?? 'none'}`);
      }
      for (const id of holders(STAGE.pending)) {
        if (!versions[id]!.includes(STAGE.current))
          broken.push(`stray AWSPENDING on version ${id}`);
      }
      for (const [id, stages] of Object.entries(versions)) {
        const key = this.keyIn(values[id]);
        if (key && this.saas.revoked.has(key)) {
          broken.push(`version ${id} (${stages.join(', ')}) still holds revoked key ${key}`);
        }
      }
      if (last.mode === 'reissue' && !quarantined && current[0] === this.leakedVersion) {
        broken.push('AWSCURRENT is still the leaked version');
      }
    }
    // Keys valid at the issuer that no staged version holds: issued and lost.
    const staged = new Set(Object.values(values).map((v) => this.keyIn(v)));
    for (const key of this.saas.valid) {
      if (!staged.has(key))
        broken.push(`key ${key} is valid at the issuer but no staged version holds it`);
    }
    return broken;
  }
}
