// What an emulated IAM user may do: its inline and attached policies, its groups and theirs, and
// the managed policies (customer and AWS managed, with versions), with the IAM reads the
// `iam-access-key` kind's scope check makes, as the IAM API Reference documents each (cited at
// each action), and the writes that set them up (PutUserPolicy, CreatePolicy, AttachUserPolicy,
// CreateGroup, PutGroupPolicy, AddUserToGroup), through the API or as test setup methods. AWS's
// own AdministratorAccess policy is there from the start, as in every account.
import { randomBytes } from 'node:crypto';
import type { LocalClock } from './clock.ts';
import { AwsError, type XmlValue } from './wire.ts';

/** An IAM group: its own inline and attached policies. */
interface Group {
  name: string;
  path: string;
  groupId: string;
  arn: string;
  created: Date;
  inline: Map<string, string>;
  attached: Set<string>;
}

/** A managed policy (customer or AWS managed) and its versions; the default one applies. */
interface ManagedPolicy {
  name: string;
  arn: string;
  policyId: string;
  created: Date;
  defaultVersionId: string;
  versions: Map<string, { document: string; created: Date }>;
}

/** A user's policies and groups. */
interface UserPolicies {
  /** Inline policies by name: their documents as given (PutUserPolicy). */
  inline: Map<string, string>;
  /** Managed policies attached (AttachUserPolicy), by ARN. */
  attached: Set<string>;
  /** The groups the user is in (AddUserToGroup), by name. */
  groups: Set<string>;
}

const uniqueId = (prefix: string) => `${prefix}${randomBytes(8).toString('hex').toUpperCase()}`;

export class IamPolicies {
  private readonly users = new Map<string, UserPolicies>();
  private readonly groups = new Map<string, Group>();
  private readonly policies = new Map<string, ManagedPolicy>();

  constructor(
    private readonly options: { accountId: string; clock: LocalClock },
    /** The user's name; throws NoSuchEntity, as IAM does, when there is no such user. */
    private readonly userName: (name: string | undefined) => string,
  ) {
    // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html
    this.createPolicy(
      'AdministratorAccess',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
      { awsManaged: true },
    );
  }

  private userPolicies(name: string | undefined): UserPolicies {
    const userName = this.userName(name);
    let policies = this.users.get(userName);
    if (!policies) {
      policies = { inline: new Map(), attached: new Set(), groups: new Set() };
      this.users.set(userName, policies);
    }
    return policies;
  }

  /** Test setup: PutUserPolicy (replaces an inline policy of the same name). */
  putUserPolicy(userName: string, policyName: string, document: string): void {
    this.userPolicies(userName).inline.set(policyName, document);
  }

  /**
   * Test setup: CreatePolicy, a customer managed policy with version v1 as its default; or, with
   * `awsManaged`, one of AWS's own (`arn:aws:iam::aws:policy/<name>`, e.g. AdministratorAccess).
   */
  createPolicy(name: string, document: string, options: { awsManaged?: boolean } = {}): string {
    const arn = options.awsManaged
      ? `arn:aws:iam::aws:policy/${name}`
      : `arn:aws:iam::${this.options.accountId}:policy/${name}`;
    if (this.policies.has(arn)) {
      throw new AwsError('EntityAlreadyExists', `A policy called ${name} already exists.`, 409);
    }
    const created = this.options.clock.now();
    this.policies.set(arn, {
      name,
      arn,
      policyId: uniqueId('ANPA'),
      created,
      defaultVersionId: 'v1',
      versions: new Map([['v1', { document, created }]]),
    });
    return arn;
  }

  /** Test setup: AttachUserPolicy. */
  attachUserPolicy(userName: string, policyArn: string): void {
    this.userPolicies(userName).attached.add(this.policy(policyArn).arn);
  }

  /** Test setup: DetachUserPolicy. */
  detachUserPolicy(userName: string, policyArn: string): void {
    this.userPolicies(userName).attached.delete(policyArn);
  }

  /** Test setup: CreateGroup. */
  createGroup(name: string, path = '/'): void {
    if (this.groups.has(name)) {
      throw new AwsError('EntityAlreadyExists', `Group with name ${name} already exists.`, 409);
    }
    this.groups.set(name, {
      name,
      path,
      groupId: uniqueId('AGPA'),
      arn: `arn:aws:iam::${this.options.accountId}:group${path}${name}`,
      created: this.options.clock.now(),
      inline: new Map(),
      attached: new Set(),
    });
  }

  /** Test setup: AddUserToGroup. */
  addUserToGroup(userName: string, groupName: string): void {
    this.userPolicies(userName).groups.add(this.group(groupName).name);
  }

  /** Test setup: PutGroupPolicy. */
  putGroupPolicy(groupName: string, policyName: string, document: string): void {
    this.group(groupName).inline.set(policyName, document);
  }

  /** Test setup: AttachGroupPolicy. */
  attachGroupPolicy(groupName: string, policyArn: string): void {
    this.group(groupName).attached.add(this.policy(policyArn).arn);
  }

  private group(name: string | undefined): Group {
    const group = this.groups.get(name ?? '');
    if (!group)
      throw new AwsError('NoSuchEntity', `The group with name ${name} cannot be found.`, 404);
    return group;
  }

  private policy(arn: string | undefined): ManagedPolicy {
    const policy = this.policies.get(arn ?? '');
    if (!policy)
      throw new AwsError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`, 404);
    return policy;
  }

  /** Attached policies as ListAttachedUserPolicies and ListAttachedGroupPolicies list them. */
  private attachedList(arns: Set<string>) {
    return [...arns].map((arn) => ({ PolicyName: this.policy(arn).name, PolicyArn: arn }));
  }

  /** An inline policy's document, or NoSuchEntity as GetUserPolicy and GetGroupPolicy answer. */
  private inlineDocument(holder: 'user' | 'group', inline: Map<string, string>, name: string) {
    const document = inline.get(name);
    if (document === undefined) {
      throw new AwsError(
        'NoSuchEntity',
        `The ${holder} policy with name ${name} cannot be found.`,
        404,
      );
    }
    return encodeURIComponent(document);
  }

  // The reads of what a user may do, as the IAM API Reference documents each (one page holds
  // everything: these emulated users have far fewer policies than MaxItems' default of 100).
  // Policy documents come back URL-encoded (RFC 3986), as the references say of PolicyDocument
  // and Document; the SDK does not decode them.
  action(action: string, params: Map<string, string>): XmlValue {
    const userName = params.get('UserName');
    switch (action) {
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedUserPolicies.html
      case 'ListAttachedUserPolicies':
        return {
          AttachedPolicies: this.attachedList(this.userPolicies(userName).attached),
          IsTruncated: false,
        };
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUserPolicies.html
      case 'ListUserPolicies':
        return { PolicyNames: [...this.userPolicies(userName).inline.keys()], IsTruncated: false };
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUserPolicy.html
      case 'GetUserPolicy': {
        const user = { name: this.userName(userName), ...this.userPolicies(userName) };
        const name = params.get('PolicyName') ?? '';
        return {
          UserName: user.name,
          PolicyName: name,
          PolicyDocument: this.inlineDocument('user', user.inline, name),
        };
      }
      default:
        return this.groupOrPolicyAction(action, params);
    }
  }

  private groupOrPolicyAction(action: string, params: Map<string, string>): XmlValue {
    const userName = params.get('UserName');
    switch (action) {
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroupsForUser.html
      case 'ListGroupsForUser':
        return {
          Groups: [...this.userPolicies(userName).groups].map((name) => {
            const group = this.group(name);
            return {
              Path: group.path,
              GroupName: group.name,
              GroupId: group.groupId,
              Arn: group.arn,
              CreateDate: group.created,
            };
          }),
          IsTruncated: false,
        };
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroupPolicies.html
      case 'ListGroupPolicies':
        return {
          PolicyNames: [...this.group(params.get('GroupName')).inline.keys()],
          IsTruncated: false,
        };
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetGroupPolicy.html
      case 'GetGroupPolicy': {
        const group = this.group(params.get('GroupName'));
        const name = params.get('PolicyName') ?? '';
        return {
          GroupName: group.name,
          PolicyName: name,
          PolicyDocument: this.inlineDocument('group', group.inline, name),
        };
      }
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedGroupPolicies.html
      case 'ListAttachedGroupPolicies':
        return {
          AttachedPolicies: this.attachedList(this.group(params.get('GroupName')).attached),
          IsTruncated: false,
        };
      default:
        return this.managedPolicyAction(action, params);
    }
  }

  private managedPolicyAction(action: string, params: Map<string, string>): XmlValue {
    switch (action) {
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html
      case 'GetPolicy': {
        const policy = this.policy(params.get('PolicyArn'));
        return {
          Policy: {
            PolicyName: policy.name,
            PolicyId: policy.policyId,
            Arn: policy.arn,
            Path: '/',
            DefaultVersionId: policy.defaultVersionId,
            IsAttachable: true,
            CreateDate: policy.created,
            UpdateDate: policy.created,
          },
        };
      }
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicyVersion.html
      case 'GetPolicyVersion': {
        const policy = this.policy(params.get('PolicyArn'));
        const versionId = params.get('VersionId') ?? '';
        const version = policy.versions.get(versionId);
        if (!version) {
          throw new AwsError(
            'NoSuchEntity',
            `Policy ${policy.arn} version ${versionId} does not exist.`,
            404,
          );
        }
        return {
          PolicyVersion: {
            Document: encodeURIComponent(version.document),
            VersionId: versionId,
            IsDefaultVersion: versionId === policy.defaultVersionId,
            CreateDate: version.created,
          },
        };
      }
      default:
        return this.writeAction(action, params);
    }
  }

  // The writes, each as its API Reference page answers (an empty result where it documents none).
  private writeAction(action: string, params: Map<string, string>): XmlValue {
    const userName = params.get('UserName') ?? '';
    const groupName = params.get('GroupName') ?? '';
    const document = params.get('PolicyDocument') ?? '{}';
    switch (action) {
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html
      case 'PutUserPolicy':
        this.putUserPolicy(userName, params.get('PolicyName') ?? '', document);
        return undefined;
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
      case 'CreatePolicy': {
        const policy = this.policy(this.createPolicy(params.get('PolicyName') ?? '', document));
        return {
          Policy: {
            PolicyName: policy.name,
            PolicyId: policy.policyId,
            Arn: policy.arn,
            Path: '/',
            DefaultVersionId: policy.defaultVersionId,
            AttachmentCount: 0,
            IsAttachable: true,
            CreateDate: policy.created,
            UpdateDate: policy.created,
          },
        };
      }
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html
      case 'AttachUserPolicy':
        this.attachUserPolicy(userName, params.get('PolicyArn') ?? '');
        return undefined;
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateGroup.html
      case 'CreateGroup': {
        this.createGroup(groupName, params.get('Path') ?? '/');
        const group = this.group(groupName);
        return {
          Group: {
            Path: group.path,
            GroupName: group.name,
            GroupId: group.groupId,
            Arn: group.arn,
            CreateDate: group.created,
          },
        };
      }
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutGroupPolicy.html
      case 'PutGroupPolicy':
        this.putGroupPolicy(groupName, params.get('PolicyName') ?? '', document);
        return undefined;
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddUserToGroup.html
      case 'AddUserToGroup':
        this.addUserToGroup(userName, groupName);
        return undefined;
      default:
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${action} for version 2010-05-08`,
        );
    }
  }
}
