// Logical IDs are a public contract: an installed stack updates in place only while each resource
// keeps its CloudFormation logical ID, and a stateful resource given a new one is replaced. The
// construct was one class before it was split into sub-constructs (AuditTrail, Alerting, ...);
// each sub-construct is marked here as "flat", and one Aspect gives every resource under a flat
// construct the logical ID it had when it sat directly in TokenRotation: CDK's own algorithm
// (Names.nodeUniqueId, the one Stack.allocateLogicalId uses) over the path without the flat IDs.
// test/infra/logical-ids.test.ts holds the IDs.
import { CfnElement, CfnOutput, type IAspect, Names, Stack } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

const FLAT = Symbol.for('token-rotation.flat-logical-ids');

/**
 * Leaves `construct`'s own ID out of the logical IDs of the resources under it, so moving them
 * into it changes none. Construct IDs under flat siblings must stay unique among them.
 */
export function keepParentLogicalIds(construct: IConstruct): void {
  Object.defineProperty(construct, FLAT, { value: true });
}

const isFlat = (construct: IConstruct): boolean =>
  (construct as unknown as Record<symbol, unknown>)[FLAT] === true;

/** CDK's unique ID of a path (`makeUniqueId`), through the public Names.nodeUniqueId. */
function uniqueIdOf(components: string[]): string {
  let scope = new Construct(undefined as unknown as Construct, '');
  for (const id of components) scope = new Construct(scope, id);
  return Names.nodeUniqueId(scope.node);
}

/** The path components of `construct` from after `from`, leaving out flat constructs. */
function legacyComponents(construct: IConstruct, from: number): string[] {
  return construct.node.scopes
    .slice(from)
    .filter((scope) => !isFlat(scope))
    .map((scope) => scope.node.id);
}

/**
 * The logical ID `element` had before its flat ancestors existed (its allocated one when it has
 * none). Use it wherever a logical ID is needed at construction time (cdk-nag finding IDs).
 */
export function logicalIdOf(element: CfnElement): string {
  const stack = Stack.of(element);
  const scopes = element.node.scopes;
  if (!scopes.some(isFlat)) return stack.getLogicalId(element);
  return uniqueIdOf(legacyComponents(element, scopes.indexOf(stack) + 1));
}

/**
 * Construct IDs CDK derives from another construct's unique ID (an EventBridge rule's
 * `AllowEventRule<function unique ID>` permission), mapped back to the unique ID before the split.
 */
function legacyUniqueIds(root: IConstruct): Map<string, string> {
  const ids = new Map<string, string>();
  for (const construct of root.node.findAll()) {
    if (!construct.node.scopes.some(isFlat)) continue;
    ids.set(Names.nodeUniqueId(construct.node), uniqueIdOf(legacyComponents(construct, 1)));
  }
  return ids;
}

/** The Aspect: give every resource under a flat construct its logical ID from before the split. */
export class FlatLogicalIds implements IAspect {
  private uniqueIds?: Map<string, string>;

  constructor(private readonly root: IConstruct) {}

  visit(node: IConstruct): void {
    if (!CfnElement.isCfnElement(node) || !node.node.scopes.some(isFlat)) return;
    // Outputs have plain IDs of their own (overrideLogicalId where they are made).
    if (node instanceof CfnOutput) return;
    this.uniqueIds ??= legacyUniqueIds(this.root);
    const stack = Stack.of(node);
    const components = legacyComponents(node, node.node.scopes.indexOf(stack) + 1).map((id) => {
      for (const [now, before] of this.uniqueIds!) {
        if (id.includes(now)) return id.replace(now, before);
      }
      return id;
    });
    node.overrideLogicalId(uniqueIdOf(components));
  }
}
