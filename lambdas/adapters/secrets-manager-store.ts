// SecretStore on Secrets Manager: one SDK call per method (versionCreated pages, but a secret
// rarely has 100 versions), so the rotation steps' call count (and their API budget) can be read
// straight off the domain code.

import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  type SecretVersionsListEntry,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { AlreadyExistsError, NotFoundError, RotationError } from '#domain/errors';
import type { SecretDescription, SecretStore } from '#domain/ports';
import { STAGE } from '#domain/vocabulary';
import { awsCall } from './aws-errors.ts';

export class SecretsManagerStore implements SecretStore {
  constructor(private readonly client: SecretsManagerClient) {}

  async describe(secretId: string): Promise<SecretDescription> {
    const out = await awsCall(this.client.send(new DescribeSecretCommand({ SecretId: secretId })));
    const rules = out.RotationRules;
    return {
      arn: out.ARN ?? secretId,
      name: out.Name ?? secretId,
      rotationEnabled: out.RotationEnabled === true,
      rotationLambdaArn: out.RotationLambdaARN,
      rotationRules: rules && {
        automaticallyAfterDays: rules.AutomaticallyAfterDays,
        scheduleExpression: rules.ScheduleExpression,
        duration: rules.Duration,
      },
      lastRotatedDate: out.LastRotatedDate,
      nextRotationDate: out.NextRotationDate,
      versions: out.VersionIdsToStages ?? {},
      tags: Object.fromEntries((out.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
      deleted: out.DeletedDate !== undefined,
    };
  }

  async getValue(
    secretId: string,
    select: { versionId?: string; stage?: string } = {},
  ): Promise<string | undefined> {
    try {
      const out = await awsCall(
        this.client.send(
          new GetSecretValueCommand({
            SecretId: secretId,
            VersionId: select.versionId,
            VersionStage: select.stage,
          }),
        ),
      );
      if (out.SecretString !== undefined) return out.SecretString;
      if (out.SecretBinary !== undefined) {
        throw new RotationError(
          secretId,
          'GetSecretValue',
          `version ${out.VersionId ?? select.versionId ?? select.stage ?? STAGE.current}: expected a SecretString value, found a SecretBinary value`,
          'binary-value',
        );
      }
      return undefined;
    } catch (error) {
      // A version RotateSecret created has no value until createSecret puts one. Without a
      // version or stage the secret itself is missing, which the caller must hear about.
      const selected = select.versionId !== undefined || select.stage !== undefined;
      if (selected && error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async getCurrentValues(secretIds: string[]): Promise<Map<string, string>> {
    const out = await awsCall(
      this.client.send(new BatchGetSecretValueCommand({ SecretIdList: secretIds })),
    );
    const values = new Map<string, string>();
    for (const found of out.SecretValues ?? []) {
      const id = secretIds.find((i) => i === found.ARN || i === found.Name);
      if (id !== undefined && found.SecretString !== undefined) values.set(id, found.SecretString);
    }
    return values;
  }

  async putPending(
    secretId: string,
    versionId: string,
    value: string,
    rotationToken?: string,
  ): Promise<'put' | 'exists'> {
    try {
      await awsCall(
        this.client.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            ClientRequestToken: versionId,
            SecretString: value,
            VersionStages: [STAGE.pending],
            ...(rotationToken !== undefined && { RotationToken: rotationToken }),
          }),
        ),
      );
      return 'put';
    } catch (error) {
      if (error instanceof AlreadyExistsError) return 'exists';
      throw error;
    }
  }

  async versionCreated(secretId: string, versionId: string): Promise<Date | undefined> {
    for await (const version of secretVersions(this.client, secretId)) {
      if (version.VersionId === versionId) return version.CreatedDate;
    }
    return undefined;
  }

  async moveStage(
    secretId: string,
    stage: string,
    toVersionId: string | undefined,
    fromVersionId?: string,
  ): Promise<void> {
    await awsCall(
      this.client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: stage,
          MoveToVersionId: toVersionId,
          RemoveFromVersionId: fromVersionId,
        }),
      ),
    );
  }
}

/** Every version of a secret (ListSecretVersionIds), page by page as the caller reads on. */
export async function* secretVersions(
  client: SecretsManagerClient,
  secretId: string,
): AsyncGenerator<SecretVersionsListEntry> {
  let nextToken: string | undefined;
  do {
    const out = await awsCall(
      client.send(
        new ListSecretVersionIdsCommand({
          SecretId: secretId,
          MaxResults: 100,
          NextToken: nextToken,
        }),
      ),
    );
    yield* out.Versions ?? [];
    nextToken = out.NextToken;
  } while (nextToken);
}
