// Revoke each live version: every version holding a live token is revoked at its issuer with no
// grace, then the new version is put (reissue.ts) and promoted (promote.ts); the labels are
// checked once more, and anything a concurrent rotation staged meanwhile is revoked too.

import { rememberSecret } from '../errors.ts';
import type { Issuer, SecretDescription } from '../ports.ts';
import { STAGE } from '../vocabulary.ts';
import { isLive, isRevokeAfter, liveVersions, versionWith } from './live-versions.ts';
import { promote } from './promote.ts';
import { QUARANTINED, readQuarantineNotice } from './quarantine-notice.ts';
import { reissueOrQuarantine } from './reissue.ts';
import type { RevokeDeps, RevokedVersion, RevokeMode } from './types.ts';

/** Label checks before giving up on a secret whose labels keep changing under us. */
const MAX_ROUNDS = 5;

/** The revoke proper: revoke, put the new version, move the labels, check, repeat. */
export class RevokeWork {
  readonly revoked: RevokedVersion[] = [];
  /** Every value read or minted: redacted from any error text. */
  readonly seen = new Set<string>();
  /** Live versions found and not (yet) revoked. */
  private readonly pendingRevoke = new Map<string, RevokedVersion>();
  private readonly done = new Set<string>();
  /** Versions found with no value yet (a rotation's fresh AWSPENDING): looked at again later. */
  private readonly unfilled = new Set<string>();
  /**
   * Revoked at the issuer's say-so only once unlabelled (`random`): done, not yet revoked. Each
   * with its token as the kind names it, for the token index (in memory only).
   */
  private readonly awaitingUnstaging = new Map<string, string | undefined>();
  newVersionId: string | undefined;
  stage = 'revoke';

  constructor(
    readonly secret: SecretDescription,
    private readonly issuer: Issuer,
    private readonly deps: RevokeDeps,
    readonly revokeId: string,
    private readonly mode: RevokeMode,
    readonly stackName: string,
  ) {
    // Known live from the start, so a failure before they are read still names them as not revoked.
    for (const v of liveVersions(secret, undefined)) {
      this.pendingRevoke.set(v.versionId, { ...v, token: 'not yet read' });
    }
  }

  async run(): Promise<void> {
    let secret = this.secret;
    for (let round = 1; ; round++) {
      const live = liveVersions(secret, this.newVersionId);
      for (const v of live) {
        if (!this.done.has(v.versionId))
          this.pendingRevoke.set(v.versionId, { ...v, token: 'not yet read' });
      }
      this.stage = 'revoke';
      let template: string | undefined;
      for (const v of live) {
        const value = await this.revokeVersion(v);
        if (v.stages.includes(STAGE.current)) template = value;
      }
      if (!this.newVersionId) await this.putNewVersion(secret, template);
      this.stage = 'labels';
      secret = await promote(this.secret.arn, this.newVersionId!, this.deps, this.seen);
      // A rotation that was putting its AWSPENDING value while we read it: revoke that value too.
      this.stage = 'revoke';
      const filled = await this.revokeFilledPending(secret);
      await this.settle(secret);
      if (
        !filled &&
        liveVersions(secret, this.newVersionId).length === 0 &&
        versionWith(secret, STAGE.current) === this.newVersionId
      )
        break;
      if (round >= MAX_ROUNDS) {
        throw new Error(
          `expected only version ${this.newVersionId} to be labelled after ${MAX_ROUNDS} rounds, found ${JSON.stringify(secret.versions)} (something keeps changing the secret's labels)`,
        );
      }
      if (filled) secret = await this.deps.store.describe(this.secret.arn);
    }
  }

  private async putNewVersion(secret: SecretDescription, template: string | undefined) {
    this.stage = this.mode;
    this.newVersionId = await reissueOrQuarantine(
      {
        secret,
        issuer: this.issuer,
        mode: this.mode,
        template,
        revokeId: this.revokeId,
        stackName: this.stackName,
        seen: this.seen,
      },
      this.deps,
    );
  }

  /**
   * Revokes the value a rotation put, after we first looked, into a version seen as AWSPENDING
   * with no value. True when one was found (its labels must be checked again).
   */
  private async revokeFilledPending(secret: SecretDescription): Promise<boolean> {
    let found = false;
    for (const versionId of [...this.unfilled]) {
      const stages = secret.versions[versionId] ?? [];
      if ((await this.revokeVersion({ versionId, stages })) !== undefined) found = true;
    }
    return found;
  }

  /** Counts as revoked each version awaiting unstaging that `secret` shows with no live label. */
  private async settle(secret: SecretDescription): Promise<void> {
    for (const [versionId, token] of this.awaitingUnstaging) {
      if (isLive(secret.versions[versionId] ?? [])) continue;
      const version = this.pendingRevoke.get(versionId);
      this.awaitingUnstaging.delete(versionId);
      this.pendingRevoke.delete(versionId);
      if (version) this.proven(version, token);
    }
  }

  /**
   * `version`'s token is proven revoked (the issuer confirmed it, or no staged version holds it
   * any more, as read back): counted, and told to the token index. Never throws.
   */
  private proven(version: RevokedVersion, token: string | undefined): Promise<void> {
    this.revoked.push(version);
    return (
      this.deps.tokenIndex?.revoked(this.secret, version.versionId, token) ?? Promise.resolve()
    );
  }

  /** After a failure: which versions awaiting unstaging lost their labels before it, by `versions` read back. */
  settleAfterFailure(versions: SecretDescription['versions']): Promise<void> {
    return this.settle({ ...this.secret, versions });
  }

  /** Revokes one version's token at the issuer (once). Returns its value, or the mint template for a notice. */
  private async revokeVersion(v: {
    versionId: string;
    stages: string[];
  }): Promise<string | undefined> {
    const value = await this.deps.store.getValue(this.secret.arn, { versionId: v.versionId });
    if (this.done.has(v.versionId)) return this.templateOf(value);
    if (value === undefined) {
      // Not done: the rotation that made this version may still put its token in it.
      this.unfilled.add(v.versionId);
      this.pendingRevoke.set(v.versionId, {
        ...v,
        token: 'no value (a rotation had not put its token yet)',
      });
      return undefined;
    }
    this.unfilled.delete(v.versionId);
    const token = readQuarantineNotice(value) ? QUARANTINED : await this.revokeAtIssuer(v, value);
    this.done.add(v.versionId);
    const version = { versionId: v.versionId, stages: v.stages, token };
    const secretToken = token === QUARANTINED ? undefined : this.issuer.secretToken?.(value);
    if (token !== QUARANTINED && this.issuer.revokedByUnstaging) {
      // Still working until no staged version holds it: revoked once its labels are gone.
      this.pendingRevoke.set(v.versionId, version);
      this.awaitingUnstaging.set(v.versionId, secretToken);
    } else {
      this.pendingRevoke.delete(v.versionId);
      // A quarantine notice holds no token: nothing to tell the index.
      if (token === QUARANTINED) this.revoked.push(version);
      else await this.proven(version, secretToken);
    }
    return this.templateOf(value);
  }

  /** Revokes `value`'s token at the issuer; returns the token's non-secret name. */
  private async revokeAtIssuer(
    v: { versionId: string; stages: string[] },
    value: string,
  ): Promise<string> {
    rememberSecret(this.seen, value);
    const token = this.issuer.name(value);
    try {
      await this.issuer.revoke({
        secretArn: this.secret.arn,
        secretName: this.secret.name,
        versionId: v.versionId,
        value,
      });
    } catch (error) {
      // The request may have reached the issuer with only its answer lost: say so, not "still valid".
      this.pendingRevoke.set(v.versionId, {
        ...v,
        token: `${token} (revoke sent, not confirmed by the issuer)`,
      });
      throw error;
    }
    return token;
  }

  /** What a fresh token is minted from: the value itself, or for a notice the version it names. */
  private async templateOf(value: string | undefined): Promise<string | undefined> {
    if (value === undefined) return undefined;
    const notice = readQuarantineNotice(value);
    if (!notice) return value;
    if (this.mode === 'quarantine') return value;
    const restored = await this.deps.store.getValue(this.secret.arn, {
      versionId: notice.restoreFrom,
    });
    if (restored === undefined) {
      throw new Error(
        `expected version ${notice.restoreFrom} (named by the quarantine notice) to hold the value to reissue from, found it gone; put a new value in the console instead`,
      );
    }
    rememberSecret(this.seen, restored);
    return restored;
  }

  notRevoked(): RevokedVersion[] {
    return [...this.pendingRevoke.values()];
  }

  versionsByRole(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const v of this.revoked) out[roleOf(v)] = v.versionId;
    if (this.newVersionId)
      out[this.mode === 'reissue' ? 'reissued' : 'quarantine'] = this.newVersionId;
    return out;
  }

  tokensByRole(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const v of this.revoked) out[roleOf(v)] = v.token;
    return out;
  }
}

function roleOf({ stages, versionId }: RevokedVersion): string {
  if (stages.includes(STAGE.current)) return 'current';
  if (stages.includes(STAGE.previous)) return 'previous';
  if (stages.includes(STAGE.pending)) return 'pending';
  // Several versions may wait for a later revoke at once: each keeps its own entry.
  if (stages.some(isRevokeAfter)) return `revoke-after:${versionId}`;
  return 'other';
}
