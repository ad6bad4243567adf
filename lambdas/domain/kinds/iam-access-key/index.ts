// The `iam-access-key` kind: IAM users' access keys (issuer.ts), rotated within IAM's two-keys
// limit, retired in two stages after grace, and revoked at once when AWS Health reports one exposed.

import { type KindDefinition, kindNotConfigured } from '../definition.ts';
import { DEFAULT_DELETE_AFTER_MS, iamAccessKeyIssuer } from './issuer.ts';

const NAME = 'iam-access-key';

/** IAM reads of a user's own policies (what its keys may do), as the IAM API names them. */
const USER_POLICY_READS = [
  'iam:ListAttachedUserPolicies',
  'iam:ListUserPolicies',
  'iam:GetUserPolicy',
  'iam:ListGroupsForUser',
];
/** IAM reads of its groups' policies and of managed policies' documents. */
const GROUP_AND_MANAGED_POLICY_READS = [
  'iam:ListGroupPolicies',
  'iam:GetGroupPolicy',
  'iam:ListAttachedGroupPolicies',
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
];

/** AWS Health event type codes that report an access key as exposed or compromised. */
export const EXPOSED_CREDENTIAL_CODES = [
  'AWS_RISK_CREDENTIALS_EXPOSED',
  'AWS_RISK_CREDENTIALS_EXPOSURE_SUSPECTED',
  'AWS_RISK_CREDENTIALS_COMPROMISED',
  'AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED',
  'AWS_RISK_IAM_QUARANTINE',
] as const;

/** Long-term (AKIA) and temporary (ASIA) access key IDs, as Health names them in affectedEntities. */
const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;

export const iamAccessKeyKind: KindDefinition<{
  userName: string;
  accessKeyId: string;
  secretAccessKey: string;
}> = {
  name: NAME,
  label: NAME,
  parse: (value) => (value === NAME ? { ok: true } : undefined),
  matches: (tag) => tag === NAME,
  createIssuer: (_tag, secret, deps) => {
    if (!deps.accessKeys) throw kindNotConfigured(NAME, 'IAM and STS clients', secret);
    return iamAccessKeyIssuer({
      keys: deps.accessKeys,
      ...(deps.sleep && { sleep: deps.sleep }),
      ...(deps.deleteAfterMs !== undefined && { deleteAfterMs: deps.deleteAfterMs }),
    });
  },
  permissions: ({ accessKeyUserPath }) => [
    {
      sid: 'RotateAccessKeysOfUsersUnderPath',
      actions: [
        'iam:ListAccessKeys',
        'iam:CreateAccessKey',
        'iam:UpdateAccessKey',
        'iam:DeleteAccessKey',
        'iam:ListUserTags',
      ],
      // The sweep only retires keys (deactivate, delete), never creates one; it still reads the
      // binding tag, which guards retiring too (a secret naming another user's live key).
      retireActions: [
        'iam:UpdateAccessKey',
        'iam:DeleteAccessKey',
        'iam:ListUserTags',
        // Whether consumers still use a previous key before it is retired (switch-over).
        'iam:GetAccessKeyLastUsed',
      ],
      resources: [`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:user${accessKeyUserPath}*`],
      wildcardReason:
        'Access keys of the IAM users under accessKeyUserPath only: the administrator decides which users the suite may rotate by where they put them.',
    },
    {
      // Scopes: what a rotated user may do is what its identity policies allow (scopes.ts). Read
      // only, by testSecret (rotation) and by the sweep's scope check.
      sid: 'ReadPoliciesOfUsersUnderPath',
      actions: USER_POLICY_READS,
      retireActions: USER_POLICY_READS,
      resources: [`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:user${accessKeyUserPath}*`],
      wildcardReason:
        'Reads the identity policies of the IAM users under accessKeyUserPath only, to compare what their keys may do with the scopes their secrets declare.',
    },
    {
      sid: 'ReadGroupAndManagedPolicies',
      actions: GROUP_AND_MANAGED_POLICY_READS,
      retireActions: GROUP_AND_MANAGED_POLICY_READS,
      resources: [
        `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:group/*`,
        `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:policy/*`,
        `arn:\${AWS::Partition}:iam::aws:policy/*`,
      ],
      wildcardReason:
        "Read-only: the groups a rotated user is in and the managed policies attached to it or them may live under any path, and AWS managed policies are AWS's; reading their documents is how the suite tells what the user's keys may do.",
    },
  ],
  capabilities: {
    scopes: {
      matching: 'iam-actions',
      source: "the IAM user's identity policies (its own and its groups')",
    },
    twoStageRevoke: { defaultDeleteAfterMs: DEFAULT_DELETE_AFTER_MS },
    healthEvents: { codes: EXPOSED_CREDENTIAL_CODES, entity: ACCESS_KEY_ID },
  },
  demo: {
    kindTag: () => NAME,
    sampleValue: ({ userName, accessKeyId, secretAccessKey }) =>
      JSON.stringify({ userName, accessKeyId, secretAccessKey }),
  },
};
