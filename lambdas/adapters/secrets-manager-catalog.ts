// SecretCatalog on Secrets Manager: the sweep's listing (server-side tag filter, 100 per call, so
// one call per 100 opted-in secrets and no DescribeSecret per secret), scheduling and tagging.
// One SDK call per method, except versionDates, which pages (a secret rarely has 100 versions).

import {
  CancelRotateSecretCommand,
  ListSecretsCommand,
  RotateSecretCommand,
  type SecretListEntry,
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import type { RotateOptions, SecretCatalog, SecretDescription, SecretPage } from '#domain/ports';
import { awsCall } from './aws-errors.ts';
import { secretVersions } from './secrets-manager-store.ts';

export const PAGE_SIZE = 100;

/** A ListSecrets entry in the domain's words. */
export function toSecretDescription(entry: SecretListEntry): SecretDescription {
  const rules = entry.RotationRules;
  const description: SecretDescription = {
    arn: entry.ARN ?? entry.Name ?? '',
    name: entry.Name ?? entry.ARN ?? '',
    rotationEnabled: entry.RotationEnabled === true,
    versions: entry.SecretVersionsToStages ?? {},
    tags: Object.fromEntries((entry.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
  };
  if (entry.RotationLambdaARN) description.rotationLambdaArn = entry.RotationLambdaARN;
  if (rules) {
    description.rotationRules = {};
    if (rules.AutomaticallyAfterDays !== undefined)
      description.rotationRules.automaticallyAfterDays = rules.AutomaticallyAfterDays;
    if (rules.ScheduleExpression !== undefined)
      description.rotationRules.scheduleExpression = rules.ScheduleExpression;
    if (rules.Duration !== undefined) description.rotationRules.duration = rules.Duration;
  }
  if (entry.LastRotatedDate) description.lastRotatedDate = entry.LastRotatedDate;
  if (entry.NextRotationDate) description.nextRotationDate = entry.NextRotationDate;
  if (entry.CreatedDate) description.createdDate = entry.CreatedDate;
  if (entry.DeletedDate) description.deleted = true;
  return description;
}

export class SecretsManagerCatalog implements SecretCatalog {
  constructor(private readonly client: SecretsManagerClient) {}

  async listTagged(tagKey: string, nextToken?: string): Promise<SecretPage> {
    // A refused parameter on a continued listing is the token: the caller starts over.
    const out = await awsCall(
      this.client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'tag-key', Values: [tagKey] }],
          MaxResults: PAGE_SIZE,
          NextToken: nextToken,
        }),
      ),
      { continuation: nextToken !== undefined },
    );
    const page: SecretPage = { secrets: (out.SecretList ?? []).map(toSecretDescription) };
    if (out.NextToken) page.nextToken = out.NextToken;
    return page;
  }

  async versionDates(secretId: string): Promise<Record<string, Date>> {
    const dates: Record<string, Date> = {};
    for await (const version of secretVersions(this.client, secretId)) {
      if (version.VersionId && version.CreatedDate) dates[version.VersionId] = version.CreatedDate;
    }
    return dates;
  }

  async rotate(secretId: string, options: RotateOptions): Promise<void> {
    const rules =
      options.scheduleExpression === undefined
        ? undefined
        : { ScheduleExpression: options.scheduleExpression, Duration: options.duration };
    await awsCall(
      this.client.send(
        new RotateSecretCommand({
          SecretId: secretId,
          RotationLambdaARN: options.lambdaArn,
          RotationRules: rules,
          RotateImmediately: options.immediately,
        }),
      ),
    );
  }

  async cancelRotation(secretId: string): Promise<void> {
    await awsCall(this.client.send(new CancelRotateSecretCommand({ SecretId: secretId })));
  }

  async tag(secretId: string, tags: Record<string, string>): Promise<void> {
    const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    if (list.length > 0)
      await awsCall(this.client.send(new TagResourceCommand({ SecretId: secretId, Tags: list })));
  }

  async untag(secretId: string, keys: string[]): Promise<void> {
    if (keys.length > 0)
      await awsCall(
        this.client.send(new UntagResourceCommand({ SecretId: secretId, TagKeys: keys })),
      );
  }
}
