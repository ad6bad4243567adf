// The token kinds' permissions in the template: IAM access keys of the users under one path
// only, and only the custom issuer functions named at deploy time; invalid settings fail early.
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TokenRotation, type TokenRotationProps } from '../../infra/token-rotation.ts';
import {
  functionOf,
  type Json,
  roleStatements,
  statementsFor,
  templateOnlyApp,
} from './support.ts';

/** An ARN as the template writes it, with the partition as `aws`. */
const arnOf = (resource: Json): string =>
  typeof resource === 'string'
    ? resource
    : resource['Fn::Join'][1]
        .map((part: Json) => (typeof part === 'string' ? part : 'aws'))
        .join('');

function synth(props: TokenRotationProps = {}): Template {
  const stack = new Stack(templateOnlyApp(), 'Kinds', {
    env: { account: '111122223333', region: 'eu-west-1' },
  });
  new TokenRotation(stack, 'TokenRotation', props);
  return Template.fromStack(stack);
}

const construct = (props: TokenRotationProps) => () =>
  new TokenRotation(new Stack(templateOnlyApp(), 'Check'), 'TokenRotation', props);

describe('token kinds: permissions', () => {
  const template = synth({
    accessKeyUserPath: '/ci/bots/',
    issuerFunctions: ['acme-issuer', 'arn:aws:lambda:eu-west-1:111122223333:function:other:live'],
    deleteDeactivatedAfter: Duration.days(2),
  });

  it('lets rotation and revoke manage, and the sweep only retire, access keys of users under the path', () => {
    // Minting reads the user's tags first: a key is only created for the user bound to the secret.
    const mints = [
      'iam:CreateAccessKey',
      'iam:DeleteAccessKey',
      'iam:ListAccessKeys',
      'iam:ListUserTags',
      'iam:UpdateAccessKey',
    ];
    const expected: Record<string, string[]> = {
      Rotation: mints,
      Revoke: mints,
      RevokeEvents: mints,
      // The sweep deactivates and later deletes previous keys, never creates one; it reads the
      // binding tag, which guards retiring as well, and asks IAM whether a consumer still used
      // the previous key since the rotation (switch-over) before it retires it.
      Sweep: [
        'iam:DeleteAccessKey',
        'iam:GetAccessKeyLastUsed',
        'iam:ListUserTags',
        'iam:UpdateAccessKey',
      ],
    };
    for (const [id, actions] of Object.entries(expected)) {
      // Act
      const [statement, ...more] = statementsFor(
        roleStatements(template, id),
        'iam:DeleteAccessKey',
      );

      // Assess
      expect(more).toEqual([]);
      expect(statement?.Action).toEqual(actions);
      expect(statement?.Resource.map(arnOf)).toEqual(['arn:aws:iam::111122223333:user/ci/bots/*']);
    }
  });

  it('lets them invoke the named issuer functions, and no other', () => {
    // Act
    const [statement] = statementsFor(
      roleStatements(template, 'Rotation'),
      'lambda:InvokeFunction',
    );

    // Assess
    expect(statement?.Resource.map(arnOf).sort()).toEqual([
      'arn:aws:lambda:eu-west-1:111122223333:function:acme-issuer',
      'arn:aws:lambda:eu-west-1:111122223333:function:acme-issuer:*',
      'arn:aws:lambda:eu-west-1:111122223333:function:other:live',
    ]);
  });

  it('tells the functions how long a deactivated key is kept', () => {
    // Act
    const env: Json = functionOf(template, 'Sweep').props.Environment.Variables;

    // Assess
    expect(env.DELETE_DEACTIVATED_AFTER_HOURS).toBe('48');
  });

  it('scopes to /token-rotation/ and invokes no issuer by default', () => {
    // Act
    const defaults = synth();
    const statements = roleStatements(defaults, 'Rotation');

    // Assess
    expect(statementsFor(statements, 'iam:CreateAccessKey')[0]?.Resource.map(arnOf)).toEqual([
      'arn:aws:iam::111122223333:user/token-rotation/*',
    ]);
    expect(statementsFor(statements, 'lambda:InvokeFunction')).toEqual([]);
    expect(
      functionOf(defaults, 'Rotation').props.Environment.Variables.DELETE_DEACTIVATED_AFTER_HOURS,
    ).toBe('168');
  });
});

describe('token kinds: settings', () => {
  it('fails a user path that is the root or lacks its slashes', () => {
    expect(construct({ accessKeyUserPath: '/' })).toThrow(
      'accessKeyUserPath must be an IAM path below the root that starts and ends with / (e.g. /token-rotation/), got "/"',
    );
    expect(construct({ accessKeyUserPath: 'token-rotation' })).toThrow('got "token-rotation"');
  });

  it('fails a delete-after time that is not whole hours from 1 hour to 365 days', () => {
    expect(construct({ deleteDeactivatedAfter: Duration.minutes(30) })).toThrow(
      'deleteDeactivatedAfter must be whole hours from 1 hour to 365 days, got 30 minutes',
    );
    expect(construct({ deleteDeactivatedAfter: Duration.days(400) })).toThrow('got 400 days');
  });

  it('fails an issuer function that is not a function name or ARN', () => {
    expect(construct({ issuerFunctions: ['acme issuer'] })).toThrow(
      'issuerFunctions must hold Lambda function names or ARNs (a qualifier allowed), got "acme issuer"',
    );
  });
});
