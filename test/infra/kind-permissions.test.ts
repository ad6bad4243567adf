// The token kinds' permissions as the registry states them (plain data, for the construct to read)
// are exactly the statements the construct grants each function's role: the data and the template
// cannot drift apart.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type KindSettings, kindPermissions, resourceArn } from '#domain/kinds/registry';
import { TokenRotation, type TokenRotationProps } from '../../infra/token-rotation.ts';
import { type Json, roleStatements, templateOnlyApp } from './support.ts';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

/** An ARN as the template writes it, with the partition as `aws`. */
const arnOf = (resource: Json): string =>
  typeof resource === 'string'
    ? resource
    : resource['Fn::Join'][1]
        .map((part: Json) => (typeof part === 'string' ? part : 'aws'))
        .join('');

/** A registry resource pattern with the stack's partition, region and account filled in. */
const expand = (pattern: string): string =>
  resourceArn(pattern, { partition: 'aws', region: REGION, accountId: ACCOUNT });

function synth(props: TokenRotationProps): Template {
  const stack = new Stack(templateOnlyApp(), 'KindPermissions', {
    env: { account: ACCOUNT, region: REGION },
  });
  new TokenRotation(stack, 'TokenRotation', props);
  return Template.fromStack(stack);
}

/** The construct's functions and what each does with issuers. */
const ROLES = { Rotation: 'mint', Revoke: 'mint', RevokeEvents: 'mint', Sweep: 'retire' } as const;

const CASES: { name: string; settings: KindSettings }[] = [
  {
    name: 'a user path and issuer functions by name, by ARN and qualified',
    settings: {
      accessKeyUserPath: '/ci/bots/',
      issuerFunctions: [
        'acme-issuer',
        'acme-issuer:live',
        `arn:aws:lambda:${REGION}:${ACCOUNT}:function:other`,
        `arn:aws:lambda:${REGION}:${ACCOUNT}:function:third:7`,
      ],
    },
  },
  {
    name: 'the defaults',
    settings: { accessKeyUserPath: '/token-rotation/', issuerFunctions: [] },
  },
];

describe('token kinds: the registry states the permissions the construct grants', () => {
  it.each(CASES)('for $name', ({ settings }) => {
    // Prepare
    const template = synth({
      accessKeyUserPath: settings.accessKeyUserPath,
      issuerFunctions: [...settings.issuerFunctions],
    });

    for (const [id, role] of Object.entries(ROLES)) {
      // Act
      const grants = kindPermissions(settings, role);
      const statements = roleStatements(template, id);

      // Assess: every statement the registry states is granted as stated, and no other statement
      // carries one of the registry's IDs.
      expect(grants.length).toBeGreaterThan(0);
      for (const grant of grants) {
        const granted = statements.filter((s) => s.Sid === grant.sid);
        expect(granted, `${id}: ${grant.sid}`).toHaveLength(1);
        expect(granted[0]!.Action).toEqual([...grant.actions].sort());
        expect(granted[0]!.Resource.map(arnOf).sort()).toEqual(grant.resources.map(expand).sort());
      }
      const sids = new Set(grants.map((g) => g.sid));
      const issuerSids = ['RotateAccessKeysOfUsersUnderPath', 'InvokeCustomIssuers'];
      expect(
        statements.filter((s) => issuerSids.includes(s.Sid ?? '') && !sids.has(s.Sid!)),
      ).toEqual([]);
    }
  });
});
