// The `random` kind: self-issued tokens your own service checks against the secret (issuer.ts).
// Nothing to reach at an issuer, so no clients and no permissions; the default kind.

import type { KindDefinition } from '../definition.ts';
import { randomIssuer } from './issuer.ts';

const NAME = 'random';

export const randomKind: KindDefinition<{ token: string; [field: string]: unknown }> = {
  name: NAME,
  label: NAME,
  parse: (value) => (value === NAME ? { ok: true } : undefined),
  matches: (tag) => tag === NAME,
  // Whether consumers switched is what their verifiers recorded (consumer/token-verifier.ts).
  createIssuer: (_tag, _secret, { tokenUses }) =>
    tokenUses
      ? { ...randomIssuer, lastUsed: (ctx) => tokenUses.lastUse(ctx.secretArn, ctx.versionId) }
      : randomIssuer,
  permissions: () => [],
  capabilities: {
    revokedByUnstaging: true,
    usesRecordedByVerifiers: true,
    // The suite writes the declared scopes into each new value; consumers enforce them.
    scopes: { matching: 'exact', writtenToValue: true, source: 'the value\'s "scopes" field' },
  },
  demo: {
    // The default kind: a secret opts in with a lifespan tag alone.
    kindTag: () => undefined,
    // Fields beside `token` (owner, scopes, notes) are carried over to every new version.
    sampleValue: (fields) => JSON.stringify(fields),
  },
};
