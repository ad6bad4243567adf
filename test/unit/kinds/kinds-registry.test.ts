// The kinds registry: each kind's definition agrees with its own issuer (capabilities, demo
// fixture), the default kind is a registered one, and a kind added for a test is refused when its
// name is taken and gone again after the undo.
import { describe, expect, it } from 'vitest';
import type { KindDefinition } from '#domain/kinds/definition';
import {
  allKinds,
  createIssuerFor,
  DEFAULT_KIND,
  getKind,
  healthEventCodes,
  kindChoices,
  kindOf,
  registerKindForTests,
} from '#domain/kinds/registry';
import type { AccessKeys, FunctionInvoker } from '#domain/ports';
import { mintToken } from '#domain/tokens';

const SECRET = { arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:s-AbCdEf', name: 's' };
// Clients that are never called: building an issuer reaches no API.
const issuers = createIssuerFor({
  accessKeys: {} as AccessKeys,
  invoker: {} as FunctionInvoker,
});

const token = mintToken('acme_live_');

/** Each built-in kind's demo tag, the parts its fixture is given, and how its issuer names the token. */
const SAMPLES: Record<string, { tag: string | undefined; parts: object; named: string }> = {
  // A token we minted is named by its fingerprint.
  random: { tag: undefined, parts: { token, owner: 'payments-team' }, named: 'fp:' },
  'iam-access-key': {
    tag: 'iam-access-key',
    parts: {
      userName: 'ci-deployer',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
    named: 'AKIAIOSFODNN7EXAMPLE',
  },
  lambda: {
    tag: 'lambda:acme-issuer',
    parts: { keyId: 'key-42', token: 'saas_live_0123456789abcdef0123', account: 'acme' },
    named: 'key-42',
  },
};

describe('kinds registry', () => {
  it('lists each built-in kind once, with the default among them', () => {
    expect(allKinds().map((kind) => kind.name)).toEqual(['random', 'iam-access-key', 'lambda']);
    expect(getKind(DEFAULT_KIND)?.parse(DEFAULT_KIND)).toEqual({ ok: true });
    expect(kindOf(undefined)?.name).toBe(DEFAULT_KIND);
    expect(kindChoices()).toBe('random, iam-access-key or lambda:<function name or ARN>');
  });

  it.each(allKinds().map((kind) => [kind.name, kind] as const))(
    '%s: declares a two-stage revoke exactly when its issuer deactivates first, and revoking by unstaging as its issuer does',
    (_name, kind) => {
      const issuer = issuers(SAMPLES[kind.name]!.tag, SECRET);
      const twoStage = kind.capabilities.twoStageRevoke;
      expect(typeof issuer.deactivate === 'function').toBe(twoStage !== undefined);
      if (twoStage) expect(issuer.deleteAfterMs).toBe(twoStage.defaultDeleteAfterMs);
      expect(issuer.revokedByUnstaging === true).toBe(
        kind.capabilities.revokedByUnstaging === true,
      );
    },
  );

  it.each(allKinds().map((kind) => [kind.name, kind] as const))(
    '%s: its demo fixture is a value its own issuer reads and names',
    (_name, kind) => {
      const sample = SAMPLES[kind.name]!;
      const tag = kind.demo.kindTag('acme-issuer');
      expect(tag).toBe(sample.tag);
      const issuer = issuers(tag, SECRET);
      const value = kind.demo.sampleValue(sample.parts as never);
      expect(issuer.name(value).startsWith(sample.named)).toBe(true);
      expect(issuer.tokenOf?.(value)).toBeDefined();
    },
  );

  it('reacts to AWS Health exposed-credential events through the kind that declares them', () => {
    expect(healthEventCodes()).toContain('AWS_RISK_CREDENTIALS_EXPOSED');
    expect(
      allKinds()
        .filter((kind) => kind.capabilities.healthEvents)
        .map((k) => k.name),
    ).toEqual(['iam-access-key']);
  });

  it('fails to register a test kind under a name already taken, and forgets one after the undo', () => {
    expect(() => registerKindForTests(getKind('random')!)).toThrow(
      'token kind "random" is registered twice',
    );
    const extra: KindDefinition = {
      ...getKind('random')!,
      name: 'extra',
      matches: (t) => t === 'extra',
    };
    const undo = registerKindForTests(extra);
    try {
      expect(kindOf('extra')).toBe(extra);
    } finally {
      // The registry outlives this file in its worker (shared modules): undone whatever happens.
      undo();
    }
    expect(kindOf('extra')).toBeUndefined();
    expect(() => issuers('extra', SECRET)).toThrow('expected one of random, iam-access-key');
  });
});
