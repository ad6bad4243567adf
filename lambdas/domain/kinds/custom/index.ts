// The custom kind, `lambda:<function>`: a function of the user's (contract.ts) mints, activates,
// verifies and revokes tokens at a third party; issuer.ts invokes it and checks every reply.

import { type KindDefinition, type KindPermission, kindNotConfigured } from '../definition.ts';
import { customIssuer } from './issuer.ts';

const PREFIX = 'lambda:';

// Lambda's FunctionName: a name, `<account>:function:<name>`, or a full ARN; each may carry a
// version or alias qualifier. Names are 1-64 of [A-Za-z0-9_-]; qualifiers `$LATEST` or 1-128 of the same.
const FUNCTION_NAME = '[A-Za-z0-9_-]{1,64}';
const QUALIFIER = '(?::(?:\\$LATEST|[A-Za-z0-9_-]{1,128}))?';
const REGION = '[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d';
const LAMBDA_TARGET = new RegExp(
  `^(?:arn:aws(?:-[a-z]+)*:lambda:${REGION}:\\d{12}:function:|\\d{12}:function:)?${FUNCTION_NAME}${QUALIFIER}$`,
);

/**
 * The ARNs a tag may reach for one function of `issuerFunctions`: a function given by name is in
 * the stack's account and region, and an unqualified one may be tagged with any version or alias.
 */
function invokable(ref: string): string[] {
  const byName = !ref.startsWith('arn:');
  const arn = byName
    ? `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${ref}`
    : ref;
  const qualified = byName ? ref.includes(':') : /:function:[^:]+:[^:]+$/.test(ref);
  return qualified ? [arn] : [arn, `${arn}:*`];
}

export const customKind: KindDefinition<{
  keyId: string;
  token: string;
  [field: string]: unknown;
}> = {
  name: 'lambda',
  label: `${PREFIX}<function name or ARN>`,
  parse: (value) => {
    if (!value.startsWith(PREFIX)) return undefined;
    const target = value.slice(PREFIX.length);
    if (target === '') return { ok: false, why: `no function named after ${PREFIX}` };
    if (!LAMBDA_TARGET.test(target)) return { ok: false, why: 'not a Lambda function name or ARN' };
    return { ok: true, issuerFunction: target };
  },
  matches: (tag) => tag.startsWith(PREFIX) && /^\S+$/.test(tag.slice(PREFIX.length)),
  createIssuer: (tag, secret, deps) => {
    if (!deps.invoker) throw kindNotConfigured(tag, 'a Lambda client', secret);
    return customIssuer({
      invoker: deps.invoker,
      functionName: tag.slice(PREFIX.length),
      ...(deps.issuerTimeoutMs !== undefined && { timeoutMs: deps.issuerTimeoutMs }),
    });
  },
  permissions: ({ issuerFunctions }): KindPermission[] =>
    issuerFunctions.length === 0
      ? []
      : [
          {
            sid: 'InvokeCustomIssuers',
            actions: ['lambda:InvokeFunction'],
            resources: issuerFunctions.flatMap(invokable),
            wildcardReason:
              'A custom issuer named in issuerFunctions, with any version or alias qualifier a kind tag may use.',
          },
        ],
  capabilities: {
    scopes: {
      matching: 'exact',
      source: "the issuer function's mint and verify answers",
    },
  },
  demo: {
    // The demo deploys the example issuer (examples/issuer-http) under the name it passes.
    kindTag: (fn) => `${PREFIX}${fn ?? ''}`,
    // `keyId` names the token in the audit trail and alerts; other fields are carried over.
    sampleValue: (fields) => JSON.stringify(fields),
  },
};
