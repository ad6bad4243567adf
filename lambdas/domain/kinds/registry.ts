// The token kinds, by name: the only place that lists them. Each kind lives in its own folder and
// exports one definition (definition.ts); policy parsing, the issuer factory, the Health event
// revoke, the CLI and the construct's permissions all ask here and never spell a kind's name, so
// adding a kind is a folder and one line in KINDS.

import { ValidationError } from '#domain/errors';
import type { Issuer } from '#domain/ports';
import { customKind } from './custom/index.ts';
import type {
  IssuerDeps,
  KindDefinition,
  KindPermission,
  KindSettings,
  KindValue,
  SecretRef,
} from './definition.ts';
import { iamAccessKeyKind } from './iam-access-key/index.ts';
import { randomKind } from './random/index.ts';

export type { IssuerDeps, KindDefinition, KindSettings, SecretRef } from './definition.ts';

type Kinds = ReadonlyMap<string, KindDefinition>;

function byName(list: readonly KindDefinition[]): Kinds {
  const kinds = new Map<string, KindDefinition>();
  for (const kind of list) {
    if (kinds.has(kind.name)) throw new Error(`token kind "${kind.name}" is registered twice`);
    kinds.set(kind.name, kind);
  }
  return kinds;
}

/** Every kind, in the order tags are matched against them and messages list them. */
const KINDS: Kinds = byName([
  randomKind, // self-issued tokens; the default kind
  iamAccessKeyKind, // IAM users' access keys
  customKind, // a custom issuer function, lambda:<function>
]);

/** The kind of a secret without a `token-rotation:kind` tag. */
export const DEFAULT_KIND: string = randomKind.name;

// Replaced whole (never changed in place) by registerKindForTests only.
let registered: Kinds = KINDS;

export const getKind = (name: string): KindDefinition | undefined => registered.get(name);
export const allKinds = (): KindDefinition[] => [...registered.values()];

/** The kind the issuer factory hands `tag` to (trimmed; absent: the default kind). */
export function kindOf(tag: string | undefined): KindDefinition | undefined {
  const value = (tag ?? DEFAULT_KIND).trim();
  return allKinds().find((kind) => kind.matches(value));
}

/** A tag value read for the policy: the kind it names and what that kind made of it. */
export function parseKindValue(
  value: string,
): { kind: KindDefinition; value: KindValue } | undefined {
  for (const kind of registered.values()) {
    const read = kind.parse(value);
    if (read) return { kind, value: read };
  }
  return undefined;
}

/** The accepted values as a person reads them: `a, b or c`. */
export function kindChoices(): string {
  const labels = allKinds().map((kind) => kind.label);
  return labels.length < 2
    ? labels.join('')
    : `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;
}

/** One IAM statement to grant, with the actions for the function's role resolved. */
export type KindGrant = Omit<KindPermission, 'retireActions'>;

/**
 * The IAM statements the construct grants a function for every kind's issuer: `mint` for the
 * functions that mint and revoke (rotation, emergency revoke), `retire` for the one that only
 * retires previous tokens after grace (the sweep).
 */
export function kindPermissions(settings: KindSettings, role: 'mint' | 'retire'): KindGrant[] {
  return allKinds().flatMap((kind) =>
    kind.permissions(settings).map(({ retireActions, ...grant }) => ({
      ...grant,
      actions: role === 'retire' && retireActions ? retireActions : grant.actions,
    })),
  );
}

/** The stack's own partition, region and account (CDK tokens, in the construct). */
export interface StackPlace {
  partition: string;
  region: string;
  accountId: string;
}

const PSEUDO = /\$\{AWS::(Partition|Region|AccountId)\}/g;

/** A resource pattern of `kindPermissions` with the stack's partition, region and account filled in. */
export function resourceArn(pattern: string, place: StackPlace): string {
  return pattern.replace(PSEUDO, (_, name: 'Partition' | 'Region' | 'AccountId') =>
    name === 'Partition' ? place.partition : name === 'Region' ? place.region : place.accountId,
  );
}

/** The kinds whose tokens AWS Health events report exposed (with `code`: that event's). */
export function healthEventKinds(code?: string): KindDefinition[] {
  return allKinds().filter((kind) => {
    const health = kind.capabilities.healthEvents;
    return health !== undefined && (code === undefined || health.codes.includes(code));
  });
}

/** Every AWS Health event type code some kind reacts to (the revoke rule's pattern). */
export function healthEventCodes(): string[] {
  return [...new Set(healthEventKinds().flatMap((kind) => kind.capabilities.healthEvents!.codes))];
}

export type IssuerFor = (kindTag: string | undefined, secret: SecretRef) => Issuer;

/** An `issuerFor` whose issuers reach their APIs through `deps`. */
export function createIssuerFor(deps: IssuerDeps = {}): IssuerFor {
  return (kindTag, secret) => {
    const tag = (kindTag ?? DEFAULT_KIND).trim();
    const kind = kindOf(tag);
    if (!kind) {
      const shown = tag === '' ? 'empty' : `"${tag.length > 100 ? `${tag.slice(0, 100)}…` : tag}"`;
      throw new ValidationError(
        secret.name,
        'policy',
        `tag token-rotation:kind is ${shown}; expected one of ${allKinds()
          .map((k) => k.label)
          .join(', ')}`,
        'unknown-kind',
      );
    }
    return kind.createIssuer(tag, secret, deps);
  };
}

/** Issuers for kinds that need no clients (the default kind). */
export const issuerFor: IssuerFor = createIssuerFor();

/**
 * Adds a kind for the length of a test, to prove that a kind is a folder and a registry entry and
 * nothing else. Tests only: the deployed functions list exactly KINDS. Returns the undo.
 */
export function registerKindForTests(kind: KindDefinition): () => void {
  if (!process.env.VITEST)
    throw new Error('registerKindForTests is for tests (run by vitest) only');
  const before = registered;
  registered = byName([...before.values(), kind]);
  return () => {
    registered = before;
  };
}
