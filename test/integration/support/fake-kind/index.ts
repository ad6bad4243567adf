// A fourth token kind that exists only in the tests: `fake-saas`, API keys at a SaaS held in memory.
// It is built the way a real kind is (one definition, its own folder) and registered with one
// line, so a test proves that adding a kind needs nothing else: the policy accepts its tag, the
// rotation, the sweep and the emergency revoke drive its issuer, and the audit names its tokens.

import { randomBytes } from 'node:crypto';
import { RotationError, ValidationError } from '#domain/errors';
import type { KindDefinition } from '#domain/kinds/definition';
import type { Issuer, IssuerContext } from '#domain/ports';

export const FAKE_KIND = 'fake-saas';

export type FakeAction = 'mint' | 'verify' | 'revoke';

/** One call the issuer received: which action, for which key, for which secret version. */
export interface FakeCall {
  action: FakeAction;
  keyId: string;
  versionId: string;
}

/** The SaaS: the keys it accepts, and every call the issuer made to it. */
export class FakeSaas {
  readonly calls: FakeCall[] = [];
  private readonly keys = new Map<string, string>();
  private issued = 0;

  /** A new key the SaaS accepts from now on (the first one is issued to a person, not the suite). */
  issue(): { keyId: string; token: string } {
    this.issued++;
    const key = {
      keyId: `fk-${String(this.issued).padStart(4, '0')}`,
      token: `fake_live_${randomBytes(24).toString('base64url')}`,
    };
    this.keys.set(key.keyId, key.token);
    return key;
  }

  accepts(key: { keyId: string; token: string }): boolean {
    return this.keys.get(key.keyId) === key.token;
  }

  /** The key IDs the SaaS accepts now. */
  liveKeys(): string[] {
    return [...this.keys.keys()];
  }

  revoke(keyId: string): void {
    this.keys.delete(keyId);
  }
}

type FakeValue = { keyId: string; token: string } & Record<string, unknown>;

function read(secret: string, step: string, value: string): FakeValue {
  const parsed = JSON.parse(value) as Partial<FakeValue>;
  if (typeof parsed.keyId !== 'string' || typeof parsed.token !== 'string') {
    throw new ValidationError(secret, step, 'expected a JSON object with "keyId" and "token"');
  }
  return parsed as FakeValue;
}

function fakeIssuer(saas: FakeSaas): Issuer {
  const record = (action: FakeAction, ctx: IssuerContext, keyId: string) =>
    saas.calls.push({ action, keyId, versionId: ctx.versionId });
  return {
    kind: FAKE_KIND,
    mintCreates: true,
    async mint(ctx) {
      const current = read(ctx.secretName, 'createSecret', ctx.current);
      const key = saas.issue();
      record('mint', ctx, key.keyId);
      return JSON.stringify({ ...current, ...key });
    },
    async verify(ctx) {
      const pending = read(ctx.secretName, 'testSecret', ctx.pending);
      record('verify', ctx, pending.keyId);
      if (!saas.accepts(pending)) {
        throw new RotationError(ctx.secretName, 'testSecret', `the SaaS refuses ${pending.keyId}`);
      }
    },
    async revoke(ctx) {
      const { keyId } = read(ctx.secretName, 'revoke', ctx.value);
      record('revoke', ctx, keyId);
      saas.revoke(keyId);
    },
    name: (value) => read('', 'name', value).keyId,
    tokenOf: (value) => ({ id: read('', 'tokenOf', value).keyId, by: 'keyId' }),
  };
}

/** The kind's one definition, over `saas`. */
export function fakeKind(saas: FakeSaas): KindDefinition<{ keyId: string; token: string }> {
  return {
    name: FAKE_KIND,
    label: FAKE_KIND,
    parse: (value) => (value === FAKE_KIND ? { ok: true } : undefined),
    matches: (tag) => tag === FAKE_KIND,
    createIssuer: () => fakeIssuer(saas),
    permissions: () => [
      {
        sid: 'CallTheFakeSaas',
        actions: ['execute-api:Invoke'],
        resources: [`arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:fake/*`],
        wildcardReason: 'Every route of the fake SaaS API.',
      },
    ],
    capabilities: {},
    demo: {
      kindTag: () => FAKE_KIND,
      sampleValue: ({ keyId, token }) => JSON.stringify({ keyId, token }),
    },
  };
}
