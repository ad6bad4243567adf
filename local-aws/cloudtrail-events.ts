// The CloudTrail events Secrets Manager puts on the event bus: service events for rotations,
// and "AWS API Call via CloudTrail" for the calls that change a secret.
import { cloudTrailEvent } from './events.ts';
import type { Secret, SecretsManagerOptions } from './secrets-manager-model.ts';
import type { Caller } from './wire.ts';

/** What an event needs of the emulator's options: where it is, its clock and its bus. */
export type EventSource = Pick<
  SecretsManagerOptions,
  'region' | 'accountId' | 'clock' | 'events' | 'identityOf'
>;

export function serviceEvent(
  source: EventSource,
  eventName: string,
  secret: Secret,
  errorMessage?: string,
): void {
  source.events.emit(
    cloudTrailEvent({
      service: 'secretsmanager',
      detailType: 'AWS Service Event via CloudTrail',
      eventName,
      time: source.clock.now(),
      region: source.region,
      accountId: source.accountId,
      userIdentity: {
        accountId: source.accountId,
        invokedBy: 'secretsmanager.amazonaws.com',
      },
      additionalEventData: { SecretId: secret.arn },
      ...(errorMessage ? { errorMessage } : {}),
    }),
  );
}

/** "AWS API Call via CloudTrail" for calls that change a secret (tag changes drive the suite). */
export function apiCallEvent(
  source: EventSource,
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
  caller?: Caller,
) {
  const readOnly = ['DescribeSecret', 'GetSecretValue', 'ListSecrets', 'ListSecretVersionIds'];
  if (readOnly.includes(operation)) return;
  const requestParameters: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    // CloudTrail never records secret values.
    if (key === 'SecretString' || key === 'SecretBinary') continue;
    const name = key[0]!.toLowerCase() + key.slice(1);
    requestParameters[name] =
      key === 'Tags' && Array.isArray(value)
        ? value.map((t: { Key: string; Value?: string }) => ({ key: t.Key, value: t.Value }))
        : value;
  }
  const accountId = source.accountId;
  const identity = source.identityOf?.(caller) ?? {
    type: 'IAMUser',
    principalId: caller?.accessKeyId ?? 'local',
    arn: `arn:aws:iam::${accountId}:user/local`,
    accountId,
    accessKeyId: caller?.accessKeyId ?? '',
    userName: 'local',
  };
  source.events.emit(
    cloudTrailEvent({
      service: 'secretsmanager',
      detailType: 'AWS API Call via CloudTrail',
      eventName: operation,
      time: source.clock.now(),
      region: source.region,
      accountId,
      userIdentity: identity,
      requestParameters,
      responseElements: typeof output.ARN === 'string' ? { arn: output.ARN } : null,
    }),
  );
}
