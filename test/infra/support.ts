// Synthesizes the app the way `cdk synth` does (cdk.json's context, nag included) and reads
// what the assertions need out of the template.
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/context.ts';
import type { TokenRotationStack } from '../../infra/stack.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));

/** CloudFormation template JSON: untyped by nature, read with care by the assertions. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static shape
export type Json = any;

export interface Synthesized {
  app: App;
  stack: TokenRotationStack;
  template: Template;
}

/** CDK's own switch (the CLI sets it to the stacks it synthesizes): an empty list bundles none. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** An empty App whose functions are not bundled: for tests that read only the template. */
export function templateOnlyApp(): App {
  return new App({ context: NO_BUNDLING });
}

export interface SynthOptions {
  /**
   * Bundle the functions with esbuild, as `cdk synth` does. Off by default: a test that reads
   * only the template skips the bundling (through `aws:cdk:bundling-stacks`, as the CLI does for
   * stacks it is not asked for), which is most of a synth's time.
   */
  bundle?: boolean;
}

/**
 * The app as `cdk synth -c key=value ...` builds it, not yet synthesized.
 * alertEmails is required on the command line; tests that do not care say `none`.
 */
export function buildTestApp(
  context: Record<string, unknown> = {},
  options: SynthOptions = {},
): Omit<Synthesized, 'template'> {
  const app = new App({
    context: {
      ...cdkJson.context,
      alertEmails: 'none',
      ...(options.bundle ? {} : NO_BUNDLING),
      ...context,
    },
  });
  return { app, stack: buildApp(app) };
}

/** The app as `cdk synth -c key=value ...` builds it, and its template. Call once per file. */
export function synthApp(
  context: Record<string, unknown> = {},
  options: SynthOptions = {},
): Synthesized {
  const built = buildTestApp(context, options);
  return { ...built, template: Template.fromStack(built.stack) };
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: unknown[];
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

type Resources = Record<string, { Type: string; Properties: Record<string, Json> }>;

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

function normalize(statement: Json): Statement {
  return {
    ...statement,
    Action: [...asArray<string>(statement.Action)].sort(),
    Resource: asArray(statement.Resource),
  };
}

/** Logical ID of the construct-made resource `TokenRotation/<id>` of `type`. */
export function logicalId(template: Template, type: string, id: string): string {
  const resources = template.toJSON().Resources as Resources;
  const matches = Object.keys(resources).filter(
    (key) =>
      resources[key]!.Type === type && new RegExp(`^TokenRotation${id}[0-9A-F]{8}$`).test(key),
  );
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} for ${id}, found ${matches.length}: ${matches}`);
  }
  return matches[0]!;
}

/** The function whose role is `TokenRotation/<id>Role` (function IDs are the role's prefix). */
export function functionOf(template: Template, id: string): { logicalId: string; props: Json } {
  const role = logicalId(template, 'AWS::IAM::Role', `${id}Role`);
  const resources = template.toJSON().Resources as Resources;
  const found = Object.entries(resources).filter(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' && r.Properties.Role?.['Fn::GetAtt']?.[0] === role,
  );
  if (found.length !== 1) throw new Error(`expected one function for role ${role}`);
  return { logicalId: found[0]![0], props: found[0]![1].Properties };
}

/** Every statement (actions sorted) of every IAM policy attached to the role `TokenRotation/<id>Role`. */
export function roleStatements(template: Template, id: string): Statement[] {
  const role = logicalId(template, 'AWS::IAM::Role', `${id}Role`);
  const resources = template.toJSON().Resources as Resources;
  const roleProps = resources[role]!.Properties;
  const inline = (roleProps.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement);
  const attached = Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        asArray(r.Properties.Roles).some((ref: Json) => ref?.Ref === role),
    )
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
  return [...inline, ...attached].map(normalize);
}

/** The statements granting any of `actions`. */
export function statementsFor(statements: Statement[], ...actions: string[]): Statement[] {
  return statements.filter((s) => s.Action.some((a) => actions.includes(a)));
}

/** A resource of `type` with one property `path` — e.g. the key policy's statements. */
export function statementsOfResource(template: Template, logical: string, property: string) {
  const resources = template.toJSON().Resources as Resources;
  return (resources[logical]!.Properties[property].Statement as Json[]).map(normalize);
}
