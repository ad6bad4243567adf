// In-memory stand-ins for the rotation engine's surroundings: a Secrets Manager secret behind
// aws-sdk-client-mock that follows AWS's documented staging rules, and AuditLog/Alerter fakes.

import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { Alert, Alerter, AuditEntry, AuditLog, AuditRecord } from '#domain/ports';

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });

/** One secret as Secrets Manager keeps it: versions with optional values and staging labels. */
export class FakeSecret {
  readonly arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/api-key-AbCdEf';
  readonly name = 'payments/api-key';
  rotationEnabled = true;
  tags: Record<string, string> = { 'token-rotation:lifespan': '7d' };
  readonly versions = new Map<string, { value?: string; stages: string[] }>();
  readonly rotationTokens: Array<string | undefined> = [];

  constructor(currentValue: string) {
    this.versions.set(randomUUID(), { value: currentValue, stages: ['AWSCURRENT'] });
  }

  /** What RotateSecret does before invoking the function: an AWSPENDING version with no value. */
  startRotation(): string {
    const id = randomUUID();
    this.removeStage('AWSPENDING');
    this.versions.set(id, { stages: ['AWSPENDING'] });
    return id;
  }

  versionWith(stage: string): string | undefined {
    return [...this.versions].find(([, v]) => v.stages.includes(stage))?.[0];
  }

  valueOf(stage: string): string | undefined {
    const id = this.versionWith(stage);
    return id === undefined ? undefined : this.versions.get(id)?.value;
  }

  stagesOf(id: string): string[] {
    return this.versions.get(id)?.stages ?? [];
  }

  removeStage(stage: string): void {
    for (const version of this.versions.values()) {
      version.stages = version.stages.filter((s) => s !== stage);
    }
  }
}

/** A SecretsManagerClient whose calls act on `secret`, and the mock that records them. */
export function fakeSecretsManager(secret: FakeSecret) {
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  const known = (id: string | undefined) => {
    if (id !== secret.arn && id !== secret.name)
      throw notFound("Secrets Manager can't find the specified secret.");
  };

  mock.on(DescribeSecretCommand).callsFake((input) => {
    known(input.SecretId);
    const stages = Object.fromEntries(
      [...secret.versions]
        .filter(([, v]) => v.stages.length > 0)
        .map(([id, v]) => [id, [...v.stages]]),
    );
    return {
      ARN: secret.arn,
      Name: secret.name,
      RotationEnabled: secret.rotationEnabled,
      VersionIdsToStages: stages,
      Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })),
    };
  });

  mock.on(GetSecretValueCommand).callsFake((input) => {
    known(input.SecretId);
    const stage = input.VersionStage ?? (input.VersionId ? undefined : 'AWSCURRENT');
    const id = input.VersionId ?? (stage ? secret.versionWith(stage) : undefined);
    const version = id ? secret.versions.get(id) : undefined;
    if (!version || (stage && !version.stages.includes(stage)) || version.value === undefined) {
      throw notFound(
        "Secrets Manager can't find the specified secret value for the version or staging label.",
      );
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: id, SecretString: version.value };
  });

  mock.on(PutSecretValueCommand).callsFake((input) => {
    known(input.SecretId);
    secret.rotationTokens.push(input.RotationToken);
    const id = input.ClientRequestToken ?? randomUUID();
    const existing = secret.versions.get(id);
    if (existing?.value !== undefined) {
      if (existing.value === input.SecretString) return { ARN: secret.arn, VersionId: id };
      throw new ResourceExistsException({
        message: 'A version with this ClientRequestToken already exists.',
        $metadata: {},
      });
    }
    for (const stage of input.VersionStages ?? ['AWSCURRENT']) secret.removeStage(stage);
    secret.versions.set(id, {
      value: input.SecretString,
      stages: [...(input.VersionStages ?? ['AWSCURRENT'])],
    });
    return { ARN: secret.arn, VersionId: id };
  });

  // Creation dates are not kept: a version is listed as created at the epoch.
  mock.on(ListSecretVersionIdsCommand).callsFake((input) => {
    known(input.SecretId);
    return {
      ARN: secret.arn,
      Versions: [...secret.versions]
        .filter(([, v]) => v.stages.length > 0)
        .map(([id, v]) => ({
          VersionId: id,
          VersionStages: [...v.stages],
          CreatedDate: new Date(0),
        })),
    };
  });

  mock.on(UpdateSecretVersionStageCommand).callsFake((input) => {
    known(input.SecretId);
    const stage = input.VersionStage!;
    const holder = secret.versionWith(stage);
    if (holder && holder !== input.MoveToVersionId && holder !== input.RemoveFromVersionId) {
      throw new InvalidParameterException({
        message: `The staging label ${stage} is attached to another version.`,
        $metadata: {},
      });
    }
    const target = input.MoveToVersionId ? secret.versions.get(input.MoveToVersionId) : undefined;
    if (input.MoveToVersionId && !target) throw notFound('No such version.');
    secret.removeStage(stage);
    if (target) target.stages.push(stage);
    // AWS: moving AWSCURRENT labels the old version AWSPREVIOUS and drops AWSPENDING from the new.
    if (stage === 'AWSCURRENT' && target && holder && holder !== input.MoveToVersionId) {
      secret.removeStage('AWSPREVIOUS');
      secret.versions.get(holder)!.stages.push('AWSPREVIOUS');
      target.stages = target.stages.filter((s) => s !== 'AWSPENDING');
    }
    return { ARN: secret.arn };
  });

  return { client, mock };
}

/** An audit trail in memory; `failWhen` makes chosen writes fail as a DynamoDB outage would. */
export class MemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  failWhen: (entry: AuditEntry) => boolean = () => false;

  async append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.failWhen(entry))
      throw new Error('ProvisionedThroughputExceededException: the audit table is throttled');
    const record: AuditRecord = {
      ...structuredClone(entry),
      seq: this.records.length + 1,
      at: new Date(0).toISOString(),
      prevHash: '',
      hash: '',
    };
    this.records.push(record);
    return record;
  }
  async history(secretArn: string) {
    return this.records.filter((r) => r.secretArn === secretArn);
  }
  async between() {
    return [...this.records];
  }
  async ofType(event: AuditEntry['event']) {
    return this.records.filter((r) => r.event === event);
  }
  events(): string[] {
    return this.records.map((r) => `${r.step ?? ''}:${r.event}:${r.outcome}`);
  }
}

/** An alerter that, like SnsAlerter, sends once per secret, event and incident. */
export class MemoryAlerter implements Alerter {
  readonly attempts: Alert[] = [];
  readonly sent: Alert[] = [];
  failing = false;

  async send(alert: Alert): Promise<'sent' | 'duplicate'> {
    this.attempts.push(structuredClone(alert));
    if (this.failing) throw new Error('SNS publish failed');
    const key = (a: Alert) => `${a.secretArn}|${a.event}|${a.incident}`;
    if (this.sent.some((a) => key(a) === key(alert))) return 'duplicate';
    this.sent.push(structuredClone(alert));
    return 'sent';
  }
}
