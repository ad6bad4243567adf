// What one token kind is, as a single object: how its `token-rotation:kind` value reads, the issuer
// that mints, activates, verifies and revokes its tokens, what the construct must allow it, and
// what it can do beyond the basics. The registry (registry.ts) lists these; nothing else names a kind.

import { ValidationError } from '#domain/errors';
import type { AccessKeys, Clock, FunctionInvoker, Issuer, TokenUses } from '#domain/ports';
import type { ScopeMatching } from '#domain/scopes';

/** The secret an issuer works for. */
export interface SecretRef {
  arn: string;
  name: string;
}

/** What issuers may need from outside: clients for the kinds that reach an API. */
export interface IssuerDeps {
  clock?: Clock;
  /** IAM and STS, for kinds whose tokens are IAM access keys. */
  accessKeys?: AccessKeys;
  /** Lambda, for kinds whose issuer is a function. */
  invoker?: FunctionInvoker;
  /** Waits between attempts (testSecret's backoff); injected so tests don't wait. */
  sleep?: (ms: number) => Promise<void>;
  /** How long a deactivated token is kept before it is deleted (two-stage kinds; default 7 days). */
  deleteAfterMs?: number;
  /** How long one custom issuer invocation may take (default 30 seconds). */
  issuerTimeoutMs?: number;
  /** Previous tokens' uses as consumers' verifiers record them (`random`: switch-over). */
  tokenUses?: TokenUses;
}

/** A `token-rotation:kind` value as its kind reads it: accepted, or why not (in policy words). */
export type KindValue = { ok: true; issuerFunction?: string } | { ok: false; why: string };

/**
 * One IAM statement the construct grants the functions for a kind. Plain data, so the Lambda code
 * needs no CDK: resources are ARNs in which `${AWS::Partition}`, `${AWS::Region}` and
 * `${AWS::AccountId}` stand for the stack's own (CloudFormation's pseudo parameters, as Fn::Sub
 * writes them).
 */
export interface KindPermission {
  /** The statement's ID: stable, since renaming one changes the deployed policy. */
  sid: string;
  /** For the functions that mint and revoke (rotation, emergency revoke). */
  actions: readonly string[];
  /** For the functions that only retire previous tokens after grace (the sweep); absent: `actions`. */
  retireActions?: readonly string[];
  resources: readonly string[];
  /** Why the wildcard resources among `resources` are needed (acknowledged to cdk-nag). */
  wildcardReason: string;
}

/** The construct's settings that a kind's permissions depend on. */
export interface KindSettings {
  /** IAM path of the users whose access keys may be rotated (`accessKeyUserPath`). */
  accessKeyUserPath: string;
  /** Custom issuer functions that may be invoked, by name or ARN (`issuerFunctions`). */
  issuerFunctions: readonly string[];
}

/** AWS Health events that report one of the kind's tokens exposed: they start an emergency revoke. */
export interface HealthEvents {
  /** The eventTypeCodes, matched exactly. */
  codes: readonly string[];
  /** Which affected-entity values name a token of the kind, as its issuer's `name` returns it. */
  entity: RegExp;
}

/** A sample secret of the kind, as the demo and the docs show it. */
export interface DemoFixture<Parts> {
  /** The `token-rotation:kind` tag for a secret of the kind (undefined: the default kind, no tag). */
  kindTag(target?: string): string | undefined;
  /** A secret value holding the token given in `parts`, in the shape the kind expects. */
  sampleValue(parts: Parts): string;
}

export interface KindDefinition<Parts = never> {
  /** The registry key: the tag value, or its prefix for kinds that name a target (`lambda`). */
  name: string;
  /** The accepted tag value as SPEC "Policy tags" writes it, for messages. */
  label: string;
  /**
   * Reads a tag value for the policy, strictly (an invalid policy changes nothing and is alerted,
   * where a guess could enforce the wrong thing). Undefined: the value is not this kind's.
   */
  parse(value: string): KindValue | undefined;
  /**
   * Whether the issuer factory hands `tag` (trimmed) to this kind. Looser than `parse`: a step
   * given a tag the policy would refuse still reaches the issuer, whose call then fails.
   */
  matches(tag: string): boolean;
  /** The issuer for one secret. Throws a ValidationError (`kind-not-configured`) without its clients. */
  createIssuer(tag: string, secret: SecretRef, deps: IssuerDeps): Issuer;
  /** What the construct must allow the functions for this kind, given its settings. */
  permissions(settings: KindSettings): readonly KindPermission[];
  capabilities: {
    /**
     * After grace the token is first deactivated (a person can still undo it) and deleted at the
     * issuer once `deleteAfterMs` has passed: the kind's issuer has `deactivate`.
     */
    twoStageRevoke?: { defaultDeleteAfterMs: number };
    /**
     * A token is revoked once no staged version holds it (the issuer's `revokedByUnstaging`), said
     * here for readers with no issuer: the CLI's evidence judges unlabelled versions by it.
     */
    revokedByUnstaging?: boolean;
    /**
     * Consumers' verifiers record each use of its previous token in the suite's table (the
     * issuer's `lastUsed` reads them): `status` reads the same records, live.
     */
    usesRecordedByVerifiers?: boolean;
    healthEvents?: HealthEvents;
    /**
     * The kind's tokens have scopes its issuer reports (the issuer's `scopesOf`), compared with
     * the `token-rotation:scopes` tag as `matching` says (#domain/scopes). `writtenToValue`: the
     * suite writes the declared scopes into each new value (`random`: its `scopes` field).
     */
    scopes?: { matching: ScopeMatching; writtenToValue?: boolean; source: string };
  };
  demo: DemoFixture<Parts>;
}

/** A kind whose clients this function was not given: a wiring mistake, named as such. */
export const kindNotConfigured = (label: string, what: string, secret: SecretRef) =>
  new ValidationError(
    secret.name,
    'policy',
    `kind ${label} needs ${what}, which this function was not configured with`,
    'kind-not-configured',
  );
