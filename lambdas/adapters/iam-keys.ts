// IAM access keys and STS for the `iam-access-key` kind: one SDK call per AccessKeys method.
// GetCallerIdentity is signed with the key under test, through a client made for that key alone.
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedGroupPoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type {
  AccessKeyInfo,
  AccessKeys,
  CallerIdentity,
  NewAccessKey,
  PolicyDocument,
  TokenUse,
} from '#domain/ports';

/** Every page of a Marker-paged IAM list. */
async function allPages<T>(
  page: (
    marker: string | undefined,
  ) => Promise<{ items: T[]; IsTruncated?: boolean; Marker?: string }>,
): Promise<T[]> {
  const items: T[] = [];
  let marker: string | undefined;
  do {
    const answer = await page(marker);
    items.push(...answer.items);
    marker = answer.IsTruncated ? answer.Marker : undefined;
  } while (marker);
  return items;
}

// IAM returns policy documents URL-encoded (RFC 3986); the SDK leaves them so.
const decoded = (document: string | undefined) => decodeURIComponent(document ?? '');

/** The error codes with which STS refuses a key: unknown, inactive, deleted, not yet propagated, or a wrong secret. */
const REFUSED = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClient']);

const codeOf = (error: unknown): string =>
  error instanceof Error
    ? ((error as { Code?: string }).Code ?? error.name).replace(/Exception$/, '')
    : '';

const isMissing = (error: unknown) => codeOf(error) === 'NoSuchEntity';

/**
 * The deployed functions' adapter: endpoints and region from the SDK's own configuration.
 * GetCallerIdentity with a new key: one try per attempt, the issuer's backoff does the waiting.
 */
export const deployedAccessKeys = (): AccessKeys =>
  new IamAccessKeys(
    new IAMClient({ maxAttempts: 5 }),
    (key) => new STSClient({ credentials: key, maxAttempts: 1 }),
  );

export class IamAccessKeys implements AccessKeys {
  constructor(
    private readonly iam: IAMClient,
    /** An STS client signing with `key`; the adapter makes one per GetCallerIdentity. */
    private readonly stsFor: (key: NewAccessKey) => STSClient,
  ) {}

  async list(userName: string): Promise<AccessKeyInfo[]> {
    const keys: AccessKeyInfo[] = [];
    let marker: string | undefined;
    do {
      const page = await this.iam.send(
        new ListAccessKeysCommand({ UserName: userName, Marker: marker }),
      );
      for (const key of page.AccessKeyMetadata ?? []) {
        if (!key.AccessKeyId) continue;
        keys.push({
          accessKeyId: key.AccessKeyId,
          status: key.Status === 'Active' ? 'Active' : 'Inactive',
          ...(key.CreateDate && { createdAt: key.CreateDate }),
        });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return keys;
  }

  async create(userName: string): Promise<NewAccessKey | 'limit-exceeded'> {
    try {
      const { AccessKey } = await this.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) {
        throw new Error(`CreateAccessKey for user ${userName} returned no access key`);
      }
      return { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
    } catch (error) {
      if (codeOf(error) === 'LimitExceeded') return 'limit-exceeded';
      throw error;
    }
  }

  async setStatus(
    userName: string,
    accessKeyId: string,
    status: 'Active' | 'Inactive',
  ): Promise<'done' | 'missing'> {
    try {
      await this.iam.send(
        new UpdateAccessKeyCommand({
          UserName: userName,
          AccessKeyId: accessKeyId,
          Status: status,
        }),
      );
      return 'done';
    } catch (error) {
      if (isMissing(error)) return 'missing';
      throw error;
    }
  }

  async delete(userName: string, accessKeyId: string): Promise<'done' | 'missing'> {
    try {
      await this.iam.send(
        new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }),
      );
      return 'done';
    } catch (error) {
      if (isMissing(error)) return 'missing';
      throw error;
    }
  }

  async userTags(userName: string): Promise<Record<string, string> | 'missing'> {
    const tags: Record<string, string> = {};
    let marker: string | undefined;
    try {
      do {
        const page = await this.iam.send(
          new ListUserTagsCommand({ UserName: userName, Marker: marker }),
        );
        for (const tag of page.Tags ?? []) {
          if (tag.Key) tags[tag.Key] = tag.Value ?? '';
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
    } catch (error) {
      if (isMissing(error)) return 'missing';
      throw error;
    }
    return tags;
  }

  // IAM answers for a key never used with no LastUsedDate and "N/A" for the service and region.
  async lastUsed(accessKeyId: string): Promise<TokenUse | undefined | 'missing'> {
    try {
      const { AccessKeyLastUsed: used } = await this.iam.send(
        new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }),
      );
      if (!used?.LastUsedDate) return undefined;
      return { at: used.LastUsedDate, by: `${used.ServiceName} in ${used.Region}` };
    } catch (error) {
      if (isMissing(error)) return 'missing';
      throw error;
    }
  }

  // The user's identity policies, as the IAM API Reference pages of ListAttachedUserPolicies,
  // ListUserPolicies/GetUserPolicy, ListGroupsForUser, ListGroupPolicies/GetGroupPolicy,
  // ListAttachedGroupPolicies and GetPolicy/GetPolicyVersion describe them.
  async policyDocuments(userName: string): Promise<PolicyDocument[] | 'missing'> {
    const { iam } = this;
    try {
      const docs: PolicyDocument[] = [];
      const managed = new Map<string, string>(); // ARN to where it is attached
      const inlineNames = await allPages(async (Marker) => {
        const a = await iam.send(new ListUserPoliciesCommand({ UserName: userName, Marker }));
        return { ...a, items: a.PolicyNames ?? [] };
      });
      for (const name of inlineNames) {
        const p = await iam.send(
          new GetUserPolicyCommand({ UserName: userName, PolicyName: name }),
        );
        docs.push({
          source: `inline policy ${name} of user ${userName}`,
          document: decoded(p.PolicyDocument),
        });
      }
      const attached = await allPages(async (Marker) => {
        const a = await iam.send(
          new ListAttachedUserPoliciesCommand({ UserName: userName, Marker }),
        );
        return { ...a, items: a.AttachedPolicies ?? [] };
      });
      for (const p of attached) if (p.PolicyArn) managed.set(p.PolicyArn, `user ${userName}`);
      const groups = await allPages(async (Marker) => {
        const a = await iam.send(new ListGroupsForUserCommand({ UserName: userName, Marker }));
        return { ...a, items: a.Groups ?? [] };
      });
      for (const group of groups) {
        const GroupName = group.GroupName ?? '';
        const names = await allPages(async (Marker) => {
          const a = await iam.send(new ListGroupPoliciesCommand({ GroupName, Marker }));
          return { ...a, items: a.PolicyNames ?? [] };
        });
        for (const name of names) {
          const p = await iam.send(new GetGroupPolicyCommand({ GroupName, PolicyName: name }));
          docs.push({
            source: `inline policy ${name} of group ${GroupName}`,
            document: decoded(p.PolicyDocument),
          });
        }
        const groupAttached = await allPages(async (Marker) => {
          const a = await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName, Marker }));
          return { ...a, items: a.AttachedPolicies ?? [] };
        });
        for (const p of groupAttached)
          if (p.PolicyArn && !managed.has(p.PolicyArn))
            managed.set(p.PolicyArn, `group ${GroupName}`);
      }
      for (const [PolicyArn, where] of managed) {
        const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn }));
        const { PolicyVersion } = await iam.send(
          new GetPolicyVersionCommand({ PolicyArn, VersionId: Policy?.DefaultVersionId }),
        );
        docs.push({
          source: `managed policy ${PolicyArn} (attached to ${where})`,
          document: decoded(PolicyVersion?.Document),
        });
      }
      return docs;
    } catch (error) {
      if (isMissing(error)) return 'missing';
      throw error;
    }
  }

  async whoAmI(key: NewAccessKey): Promise<CallerIdentity> {
    const sts = this.stsFor(key);
    try {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      return { accepted: true, arn: identity.Arn ?? '', account: identity.Account ?? '' };
    } catch (error) {
      const code = codeOf(error);
      if (REFUSED.has(code)) return { accepted: false, code };
      throw error;
    } finally {
      sts.destroy();
    }
  }
}
