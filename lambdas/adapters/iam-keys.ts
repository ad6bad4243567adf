// IAM access keys and STS for the `iam-access-key` kind: one SDK call per AccessKeys method.
// GetCallerIdentity is signed with the key under test, through a client made for that key alone.
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type {
  AccessKeyInfo,
  AccessKeys,
  CallerIdentity,
  NewAccessKey,
  TokenUse,
} from '#domain/ports';

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
