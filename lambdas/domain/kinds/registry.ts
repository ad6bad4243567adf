// Resolves a secret's `token-rotation:kind` tag to the issuer that mints, activates, tests and
// revokes its tokens. Adding a kind is one line in KINDS.

import { ValidationError } from '#domain/errors';
import type { AccessKeys, Clock, FunctionInvoker, Issuer } from '#domain/ports';
import { customIssuer } from './custom/issuer.ts';
import { iamAccessKeyIssuer } from './iam-access-key/issuer.ts';
import { randomIssuer } from './random/issuer.ts';

/** The secret an issuer works for. */
export interface SecretRef {
  arn: string;
  name: string;
}

/** What issuers may need from outside: clients for the kinds that reach an API. */
export interface IssuerDeps {
  clock?: Clock;
  /** IAM and STS, for `iam-access-key`. */
  accessKeys?: AccessKeys;
  /** Lambda, for `lambda:<fn>`. */
  invoker?: FunctionInvoker;
  /** Waits between attempts (testSecret's backoff); injected so tests don't wait. */
  sleep?: (ms: number) => Promise<void>;
  /** How long a deactivated IAM key is kept before it is deleted (default 7 days). */
  deleteAfterMs?: number;
  /** How long one custom issuer invocation may take (default 30 seconds). */
  issuerTimeoutMs?: number;
}

export type IssuerFor = (kindTag: string | undefined, secret: SecretRef) => Issuer;

interface Kind {
  /** As written in SPEC "Policy tags" and in error messages. */
  label: string;
  matches(tag: string): boolean;
  create(tag: string, secret: SecretRef, deps: IssuerDeps): Issuer;
}

/** A kind whose clients this function was not given: a wiring mistake, named as such. */
const notConfigured = (label: string, what: string, secret: SecretRef) =>
  new ValidationError(
    secret.name,
    'policy',
    `kind ${label} needs ${what}, which this function was not configured with`,
    'kind-not-configured',
  );

const KINDS: Kind[] = [
  { label: 'random', matches: (tag) => tag === 'random', create: () => randomIssuer },
  {
    label: 'iam-access-key',
    matches: (tag) => tag === 'iam-access-key',
    create: (_tag, secret, deps) => {
      if (!deps.accessKeys) throw notConfigured('iam-access-key', 'IAM and STS clients', secret);
      return iamAccessKeyIssuer({
        keys: deps.accessKeys,
        ...(deps.sleep && { sleep: deps.sleep }),
        ...(deps.deleteAfterMs !== undefined && { deleteAfterMs: deps.deleteAfterMs }),
      });
    },
  },
  {
    label: 'lambda:<function name or ARN>',
    matches: (tag) => /^lambda:\S+$/.test(tag),
    create: (tag, secret, deps) => {
      if (!deps.invoker) throw notConfigured(tag, 'a Lambda client', secret);
      return customIssuer({
        invoker: deps.invoker,
        functionName: tag.slice('lambda:'.length),
        ...(deps.issuerTimeoutMs !== undefined && { timeoutMs: deps.issuerTimeoutMs }),
      });
    },
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
