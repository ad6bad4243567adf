// A rotation function shaped like AWS's reference template (SecretsManagerRotationTemplate),
// for testing the emulator's side of the protocol. It is not the product's handler: it mints
// `v<n>` values and can be told to fail a step, so tests can watch the emulator react.
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { FunctionHandler } from './functions.ts';

export interface RotationEvent {
  SecretId: string;
  ClientRequestToken: string;
  Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  RotationToken?: string;
}

export interface ReferenceRotation {
  handler: FunctionHandler;
  /** Every event received, in order. */
  events: RotationEvent[];
  /** Make the next `times` invocations of `step` throw. */
  failNext(step: RotationEvent['Step'], times?: number): void;
}

export function referenceRotation(client: SecretsManagerClient): ReferenceRotation {
  const events: RotationEvent[] = [];
  const failures = new Map<string, number>();
  let minted = 0;

  const handler = async (event: RotationEvent) => {
    events.push(event);
    const { SecretId: arn, ClientRequestToken: token, Step: step } = event;
    const left = failures.get(step) ?? 0;
    if (left > 0) {
      failures.set(step, left - 1);
      throw new Error(`${step} failed on purpose`);
    }
    const metadata = await client.send(new DescribeSecretCommand({ SecretId: arn }));
    if (!metadata.RotationEnabled) throw new Error(`Secret ${arn} is not enabled for rotation`);
    const versions = metadata.VersionIdsToStages ?? {};
    const stages = versions[token];
    if (!stages)
      throw new Error(`Secret version ${token} has no stage for rotation of secret ${arn}.`);
    if (stages.includes('AWSCURRENT')) return;
    if (!stages.includes('AWSPENDING'))
      throw new Error(
        `Secret version ${token} not set as AWSPENDING for rotation of secret ${arn}.`,
      );

    if (step === 'createSecret') {
      await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }));
      try {
        await client.send(
          new GetSecretValueCommand({
            SecretId: arn,
            VersionId: token,
            VersionStage: 'AWSPENDING',
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        minted += 1;
        await client.send(
          new PutSecretValueCommand({
            SecretId: arn,
            ClientRequestToken: token,
            SecretString: `v${minted}`,
            VersionStages: ['AWSPENDING'],
            ...(event.RotationToken ? { RotationToken: event.RotationToken } : {}),
          }),
        );
      }
    } else if (step === 'finishSecret') {
      const current = Object.entries(versions).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      if (current === token) return;
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          RemoveFromVersionId: current,
        }),
      );
    }
  };

  return {
    handler,
    events,
    failNext: (step, times = 1) => void failures.set(step, (failures.get(step) ?? 0) + times),
  };
}
