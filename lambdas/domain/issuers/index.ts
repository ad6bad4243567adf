// Resolves a secret's `token-rotation:kind` tag to the issuer that mints, activates, tests and
// revokes its tokens. Adding a kind is one line in KINDS.

import { ValidationError } from '#domain/errors';
import type { Clock, Issuer } from '#domain/ports';
import { randomIssuer } from './random.ts';

/** The secret an issuer works for. */
export interface SecretRef {
  arn: string;
  name: string;
}

/** What issuers may need from outside: clients for the kinds that reach an API. */
export interface IssuerDeps {
  clock?: Clock;
}

export type IssuerFor = (kindTag: string | undefined, secret: SecretRef) => Issuer;

interface Kind {
  /** As written in SPEC "Policy tags" and in error messages. */
  label: string;
  matches(tag: string): boolean;
  create(tag: string, secret: SecretRef, deps: IssuerDeps): Issuer;
}

const notYetBuilt = (label: string) => (_tag: string, secret: SecretRef) => {
  throw new ValidationError(
    secret.name,
    'policy',
    `kind ${label} is not available in this version of token-rotation`,
    'unknown-kind',
  );
};

const KINDS: Kind[] = [
  { label: 'random', matches: (tag) => tag === 'random', create: () => randomIssuer },
  {
    label: 'iam-access-key',
    matches: (tag) => tag === 'iam-access-key',
    create: notYetBuilt('iam-access-key'),
  },
  {
    label: 'lambda:<function name or ARN>',
    matches: (tag) => /^lambda:\S+$/.test(tag),
    create: notYetBuilt('lambda:<function name or ARN>'),
  },
];

export const DEFAULT_KIND = 'random';

/** An `issuerFor` whose issuers reach their APIs through `deps`. */
export function createIssuerFor(deps: IssuerDeps = {}): IssuerFor {
  return (kindTag, secret) => {
    const tag = (kindTag ?? DEFAULT_KIND).trim();
    const kind = KINDS.find((candidate) => candidate.matches(tag));
    if (!kind) {
      const shown = tag === '' ? 'empty' : `"${tag.length > 100 ? `${tag.slice(0, 100)}…` : tag}"`;
      throw new ValidationError(
        secret.name,
        'policy',
        `tag token-rotation:kind is ${shown}; expected one of ${KINDS.map((k) => k.label).join(', ')}`,
        'unknown-kind',
      );
    }
    return kind.create(tag, secret, deps);
  };
}

/** Issuers for kinds that need no clients (`random`). */
export const issuerFor: IssuerFor = createIssuerFor();
