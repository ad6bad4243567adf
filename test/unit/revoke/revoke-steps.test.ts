// The emergency revoke's steps, each called alone with plain fakes: which versions are live, and
// the reissue-or-quarantine decision and the new version it puts. The whole revoke is covered by
// revoke.test.ts here and test/integration/revoke*.test.ts.
import { describe, expect, it } from 'vitest';
import type { Issuer } from '#domain/ports';
import {
  isQuarantineVersionId,
  liveVersions,
  planNewVersion,
  quarantineNotice,
  readQuarantineNotice,
  reissueOrQuarantine,
} from '#domain/revoke/index';

const NOW = new Date('2026-03-02T09:00:00Z');
const secret = (versions: Record<string, string[]>) => ({
  arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci/key-AbCdEf',
  name: 'ci/key',
  versions,
});

/** An issuer that mints `minted` and records every call by name. */
function plainIssuer(minted: string, fail?: 'verify') {
  const calls: string[] = [];
  const issuer: Issuer = {
    kind: 'plain',
    mint: async ({ current }) => {
      calls.push(`mint from ${current}`);
      return minted;
    },
    verify: async ({ pending }) => {
      calls.push(`verify ${pending}`);
      if (fail === 'verify') throw new Error('the issuer refused the new token');
    },
    revoke: async ({ value }) => {
      calls.push(`revoke ${value}`);
    },
    name: (value) => `name:${value}`,
  } as Issuer;
  return { issuer, calls };
}

function plainStore() {
  const put: Array<[string, string]> = [];
  return {
    put,
    store: {
      putPending: async (_arn: string, versionId: string, value: string) => {
        put.push([versionId, value]);
      },
    },
  };
}

describe('liveVersions', () => {
  it('lists every version carrying AWSCURRENT, AWSPREVIOUS or AWSPENDING, except the one named', () => {
    // Prepare
    const s = secret({
      cur: ['AWSCURRENT'],
      prev: ['AWSPREVIOUS'],
      pend: ['AWSPENDING'],
      old: [],
      mine: ['AWSPENDING'],
    });

    // Act
    const live = liveVersions(s, 'mine');

    // Assess
    expect(live).toEqual([
      { versionId: 'cur', stages: ['AWSCURRENT'] },
      { versionId: 'prev', stages: ['AWSPREVIOUS'] },
      { versionId: 'pend', stages: ['AWSPENDING'] },
    ]);
  });

  it('counts a version waiting for a later revoke (a revoke-after label) as live: its token still works', () => {
    const s = secret({
      cur: ['AWSCURRENT'],
      waiting: ['token-rotation:revoke-after:2026-03-02T11:00:00Z'],
    });

    expect(liveVersions(s, undefined).map((v) => v.versionId)).toEqual(['cur', 'waiting']);
  });

  it('leaves out versions with no label, or only a delete-after label (already deactivated)', () => {
    const s = secret({
      cur: ['AWSCURRENT'],
      gone: [],
      deactivated: ['token-rotation:delete-after:2026-03-09T09:00:00Z'],
    });

    expect(liveVersions(s, undefined).map((v) => v.versionId)).toEqual(['cur']);
  });
});

describe('planNewVersion (reissue or quarantine)', () => {
  it('reissues from the AWSCURRENT value', () => {
    expect(planNewVersion('reissue', 'acme_live_x', 'cur')).toEqual({
      mode: 'reissue',
      from: 'acme_live_x',
    });
  });

  it('fails to reissue when AWSCURRENT held no value to mint from', () => {
    expect(() => planNewVersion('reissue', undefined, 'cur')).toThrow(/to mint the fresh token/);
  });

  it('quarantines naming the AWSCURRENT version, or the version an earlier notice named', () => {
    const notice = quarantineNotice({
      revokeId: 'r1',
      at: NOW,
      restoreFrom: 'real',
      stackName: 'Acme',
    });
    expect(planNewVersion('quarantine', 'acme_live_x', 'cur')).toEqual({
      mode: 'quarantine',
      restoreFrom: 'cur',
    });
    expect(planNewVersion('quarantine', notice, 'noticeVersion')).toEqual({
      mode: 'quarantine',
      restoreFrom: 'real',
    });
  });

  it('fails to quarantine a secret with no AWSCURRENT', () => {
    expect(() => planNewVersion('quarantine', undefined, undefined)).toThrow(/to quarantine/);
  });
});

/** A reissue of a secret whose AWSCURRENT holds `old`, by `issuer`. */
const reissueInput = (issuer: Issuer, seen: Set<string>) => ({
  secret: secret({ cur: ['AWSCURRENT'] }),
  issuer,
  mode: 'reissue' as const,
  template: 'old',
  revokeId: 'r1',
  stackName: 'Acme',
  seen,
});
const stepDeps = (store: unknown, versionId: string) => ({
  store: store as never,
  clock: () => NOW,
  newVersionId: () => versionId,
});

describe('reissueOrQuarantine', () => {
  it('mints, verifies and puts a fresh token in reissue mode', async () => {
    // Prepare
    const { issuer, calls } = plainIssuer('fresh');
    const { store, put } = plainStore();
    const seen = new Set<string>();

    // Act
    const versionId = await reissueOrQuarantine(reissueInput(issuer, seen), stepDeps(store, 'new'));

    // Assess
    expect(versionId).toBe('new');
    expect(calls).toEqual(['mint from old', 'verify fresh']);
    expect(put).toEqual([['new', 'fresh']]);
    expect(seen.has('fresh')).toBe(true);
  });

  it('fails and revokes the fresh token again when the issuer does not verify it', async () => {
    const { issuer, calls } = plainIssuer('fresh', 'verify');
    const { store, put } = plainStore();

    const error = await reissueOrQuarantine(
      reissueInput(issuer, new Set()),
      stepDeps(store, 'new'),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect(calls).toEqual(['mint from old', 'verify fresh', 'revoke fresh']);
    expect(put).toEqual([]);
  });

  it('asks the issuer again under the same version ID when a mint answer is lost, and names the key it may hold when both fail', async () => {
    // Prepare: an issuer that creates keys (mint is not free) and whose mint fails the first time
    const versions: string[] = [];
    let failures = 1;
    const issuer = {
      ...plainIssuer('fresh').issuer,
      mintCreates: true,
      mintIdempotent: true,
      mint: async ({ versionId }: { versionId: string }) => {
        versions.push(versionId);
        if (failures-- > 0) throw new Error('socket timeout');
        return 'fresh';
      },
    } as Issuer;
    const input = reissueInput(issuer, new Set());
    const deps = () => stepDeps(plainStore().store, 'v-1');

    // Act: one lost answer, then two
    const versionId = await reissueOrQuarantine(input, deps());
    failures = 2;
    const error = await reissueOrQuarantine(input, deps()).catch((e: unknown) => e as Error);

    // Assess: the second ask names the same version, so an idempotent issuer returns its key; when
    // both fail, the error (the revoke.failed alert's text) says which key may be left at the issuer
    expect(versionId).toBe('v-1');
    expect(versions).toEqual(['v-1', 'v-1', 'v-1', 'v-1']);
    expect((error as Error).message).toMatch(
      /if the issuer made a key before failing, no version stores it \(version v-1\).*revoke it/,
    );
  });

  it('never asks an issuer that creates keys without idempotency (IAM) twice: a second key could leave the first working unseen', async () => {
    // Prepare
    const versions: string[] = [];
    const issuer = {
      ...plainIssuer('fresh').issuer,
      mintCreates: true,
      mint: async ({ versionId }: { versionId: string }) => {
        versions.push(versionId);
        throw new Error('socket timeout');
      },
    } as Issuer;

    // Act
    const error = await reissueOrQuarantine(
      reissueInput(issuer, new Set()),
      stepDeps(plainStore().store, 'v-9'),
    ).catch((e: unknown) => e as Error);

    // Assess: asked once; the failure names the version whose key the issuer may hold
    expect(versions).toEqual(['v-9']);
    expect((error as Error).message).toMatch(
      /socket timeout; if the issuer made a key before failing, no version stores it \(version v-9\)/,
    );
  });

  it('puts the quarantine notice, naming the old AWSCURRENT, and mints nothing in quarantine mode', async () => {
    const { issuer, calls } = plainIssuer('fresh');
    const { store, put } = plainStore();

    const versionId = await reissueOrQuarantine(
      {
        secret: secret({ cur: ['AWSCURRENT'] }),
        issuer,
        mode: 'quarantine',
        template: 'old',
        revokeId: 'r1',
        stackName: 'Acme',
        seen: new Set(),
      },
      { store: store as never, clock: () => NOW, newVersionId: () => 'new' },
    );

    // The notice's version ID tells it without its value (what status reads under the auditor's policy).
    expect(versionId).toBe('quarantine-new');
    expect(isQuarantineVersionId(versionId)).toBe(true);
    expect(calls).toEqual([]);
    expect(put).toHaveLength(1);
    expect(put[0]![0]).toBe(versionId);
    expect(readQuarantineNotice(put[0]![1])).toEqual({ restoreFrom: 'cur', revokeId: 'r1' });
  });
});
