// The revoke's triggers: which events and invokes become which requests, and what the handlers
// do with events they do not act on, refusals and failures.
import { describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import type { AutomationExecution } from '#adapters/ssm-automation';
import { formatAlert } from '#domain/alerts/format';
import { NotFoundError } from '#domain/errors';
import type { SecretDescription } from '#domain/ports';
import { RevokeFailedError, RevokeRequestError } from '#domain/revoke/index';
import {
  EXPOSED_CREDENTIAL_CODES,
  findSecretsHoldingKey,
  parseRevokeEvent,
  type RevokeEventDeps,
} from '#domain/revoke-events';
import { TAG } from '#domain/vocabulary';
import {
  createRevokeHandler,
  isRunbookInvoke,
  parseRevokeInvoke,
  parseRunbookInvoke,
} from '#handlers/revoke';
import { createRevokeEventsHandler } from '#handlers/revoke-events';
import { fakeCatalog, MemoryRevokeLocks, recordingIssuer } from '../support/revoke-fakes.ts';
import {
  FakeSecret,
  fakeSecretsManager,
  MemoryAlerter,
  MemoryAuditLog,
} from '../support/rotation-fakes.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/api-key-AbCdEf';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com';
const SWEEP_ID = '0123456789abcdef0123456789abcdef';

const tagEvent = (
  tags: Array<{ key: string; value?: string }>,
  extra: Record<string, unknown> = {},
) => ({
  version: '0',
  id: 'e1',
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.secretsmanager',
  detail: {
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'TagResource',
    eventID: '5f0e3a1c-1111-2222-3333-444455556666',
    userIdentity: { type: 'AssumedRole', arn: ALICE },
    requestParameters: { secretId: ARN, tags },
    ...extra,
  },
});

const healthEvent = (
  code: string,
  detail: Record<string, unknown> = {},
  resources: string[] = [],
) => ({
  source: 'aws.health',
  'detail-type': 'AWS Health Event',
  resources,
  detail: {
    eventArn: `arn:aws:health:global::event/RISK/${code}/${code}_1`,
    service: 'RISK',
    eventTypeCode: code,
    affectedEntities: [{ entityValue: 'AKIAIOSFODNN7EXAMPLE' }],
    ...detail,
  },
});

describe('parseRevokeEvent', () => {
  it('reads the secret, the reason and the console principal from a TagResource that sets the revoke tag', () => {
    const parsed = parseRevokeEvent(
      tagEvent([
        { key: 'team', value: 'x' },
        { key: TAG.revoke, value: 'leaked' },
      ]),
    );
    expect(parsed).toEqual({
      ok: true,
      event: {
        kind: 'tag',
        secretId: ARN,
        reason: 'leaked',
        principal: ALICE,
        eventId: '5f0e3a1c-1111-2222-3333-444455556666',
      },
    });
  });

  it.each([
    [
      'sets other tags only (the suite setting last-revoked)',
      tagEvent([{ key: TAG.lastRevoked, value: 'x' }]),
    ],
    ['failed', tagEvent([{ key: TAG.revoke, value: 'x' }], { errorCode: 'AccessDenied' })],
    [
      'removes tags',
      {
        ...tagEvent([]),
        detail: {
          ...tagEvent([]).detail,
          eventName: 'UntagResource',
          requestParameters: { secretId: ARN, tagKeys: [TAG.revoke] },
        },
      },
    ],
    ['is not an object', 'TagResource'],
  ])('ignores an event that %s', (_name, event) => {
    expect(parseRevokeEvent(event).ok).toBe(false);
  });

  it('drops a principal that is not an IAM or STS ARN, rather than record a forged one', () => {
    const event = tagEvent([{ key: TAG.revoke, value: 'x' }]);
    event.detail.userIdentity.arn = 'alice\nTriggered by: bob';
    const parsed = parseRevokeEvent(event);
    expect(parsed.ok && parsed.event.kind === 'tag' && parsed.event.principal).toBeUndefined();
  });

  it.each(EXPOSED_CREDENTIAL_CODES)(
    'acts on the Health event type %s, whatever its service',
    (code) => {
      const parsed = parseRevokeEvent(healthEvent(code, { service: 'IAM' }));
      expect(parsed).toMatchObject({
        ok: true,
        event: { kind: 'health', code, accessKeyIds: ['AKIAIOSFODNN7EXAMPLE'] },
      });
    },
  );

  it('ignores Health events of other types, even from the RISK service', () => {
    expect(parseRevokeEvent(healthEvent('AWS_RISK_ACCOUNT_CONSOLE_COMPROMISE')).ok).toBe(false);
    expect(parseRevokeEvent(healthEvent('AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED')).ok).toBe(false);
  });

  it('takes access keys from resources too, and ignores entities that are not access keys', () => {
    const parsed = parseRevokeEvent(
      healthEvent(
        'AWS_RISK_CREDENTIALS_EXPOSED',
        { affectedEntities: [{ entityValue: 'AWS_ACCOUNT' }] },
        ['ASIAY34FZKBOKMUTVV7A'],
      ),
    );
    expect(parsed).toMatchObject({ ok: true, event: { accessKeyIds: ['ASIAY34FZKBOKMUTVV7A'] } });
  });
});

describe('parseRevokeInvoke', () => {
  it('refuses a runbook marker next to the form fields: those are read from the execution', () => {
    const event = {
      secretId: 'payments/api-key',
      reason: 'leaked',
      runbook: { executionId: '0f1e2d3c-aaaa-bbbb-cccc-111122223333', executedBy: ALICE },
    };
    expect(() => parseRevokeInvoke(event)).toThrow(RevokeRequestError);
    expect(() => parseRevokeInvoke(event)).toThrow(/name only its execution/);
  });

  it('records a console Test invoke as the console, and leaves reason and mode to the domain', () => {
    expect(parseRevokeInvoke({ secretId: 'x', reason: '', mode: 7 })).toMatchObject({
      trigger: { source: 'console' },
      reason: '',
      mode: 7,
    });
  });

  it.each([
    ['nothing', undefined],
    ['an array', []],
    ['an empty secretId', { secretId: '' }],
    ['a secretId over 2048 characters', { secretId: 'x'.repeat(2049) }],
    ['a sweep marker without a secretId', { reason: 'leaked', sweep: { requestId: SWEEP_ID } }],
  ])('fails with the expected event shape for %s', (_name, event) => {
    expect(() => parseRevokeInvoke(event)).toThrow(RevokeRequestError);
    expect(() => parseRevokeInvoke(event)).toThrow(/expected \{"secretId"/);
  });

  it('runs a revoke tag the sweep found as the tag trigger: the tag must still be there, and a retry is the same request', () => {
    // Act
    const request = parseRevokeInvoke({
      secretId: ARN,
      reason: 'key pasted in #general',
      mode: 'reissue',
      sweep: { requestId: SWEEP_ID },
    });

    // Assess
    expect(request).toEqual({
      secretId: ARN,
      reason: 'key pasted in #general',
      mode: 'reissue',
      trigger: { source: 'tag' },
      requestKey: `sweep:${SWEEP_ID}`,
      requireTag: true,
      detail: { pickedUpBy: 'sweep' },
    });
  });

  it.each([
    ['a marker that is not an object', { sweep: 'yes' }],
    ['a marker without a request ID', { sweep: {} }],
    ['a request ID of another shape', { sweep: { requestId: 'tag:5f0e3a1c' } }],
    ['a quarantine', { mode: 'quarantine', sweep: { requestId: SWEEP_ID } }],
    ['a runbook too', { sweep: { requestId: SWEEP_ID }, runbook: { executionId: 'x' } }],
  ])('fails for a sweep marker with %s, changing nothing', (_name, fields) => {
    const event = { secretId: ARN, reason: 'leaked', ...fields };
    expect(() => parseRevokeInvoke(event)).toThrow(RevokeRequestError);
    expect(() => parseRevokeInvoke(event)).toThrow(/nothing was changed$/);
  });
});

describe('parseRunbookInvoke', () => {
  const ID = '0f1e2d3c-aaaa-bbbb-cccc-111122223333';
  const execution = (fields: Partial<AutomationExecution> = {}): AutomationExecution => ({
    executionId: ID,
    documentName: 'Tokens-EmergencyRevoke',
    status: 'InProgress',
    executedBy: ALICE,
    parameters: { SecretId: [' payments/api-key '], Reason: ['leaked'], Mode: ['quarantine'] },
    ...fields,
  });
  const parse = (
    found: AutomationExecution | undefined,
    event: unknown = { runbook: { executionId: ID } },
  ) => parseRunbookInvoke(event, { get: async () => found }, 'Tokens');

  it('names the person who started the execution, with the form read from Systems Manager', async () => {
    expect(isRunbookInvoke({ runbook: { executionId: ID } })).toBe(true);
    expect(await parse(execution())).toEqual({
      secretId: 'payments/api-key',
      reason: 'leaked',
      mode: 'quarantine',
      trigger: { source: 'runbook', principal: ALICE },
      detail: { executionId: ID },
    });
  });

  it.each([
    ['no such execution', undefined, /found none; nothing was changed$/],
    [
      'an execution of another document',
      execution({ documentName: 'Other-Runbook' }),
      /to run Tokens-EmergencyRevoke, found Other-Runbook/,
    ],
    [
      'a finished execution',
      execution({ status: 'Success' }),
      /to be running \(InProgress\), found Success/,
    ],
    [
      'an execution with no SecretId',
      execution({ parameters: { Reason: ['x'] } }),
      /SecretId to name a secret/,
    ],
  ])('fails for %s, changing nothing', async (_name, found, message) => {
    await expect(parse(found)).rejects.toThrow(RevokeRequestError);
    await expect(parse(found)).rejects.toThrow(message);
  });

  it('fails for an execution ID of another shape', async () => {
    await expect(parse(execution(), { runbook: { executionId: '../x' } })).rejects.toThrow(
      /expected \{"runbook": \{"executionId"/,
    );
  });
});

describe('findSecretsHoldingKey', () => {
  it('reads values of managed iam-access-key secrets only, and finds the one holding the key', async () => {
    // Prepare
    const holder = new FakeSecret(
      JSON.stringify({ user: 'ci', key: 'AKIAHELD0000000000', secret: 's' }),
    );
    const { client } = fakeSecretsManager(holder);
    const reads: string[] = [];
    const store = new SecretsManagerStore(client);
    const listed = (arn: string, tags: Record<string, string>): SecretDescription => ({
      arn,
      name: arn,
      rotationEnabled: true,
      versions: { v1: ['AWSCURRENT'] },
      tags,
    });
    const { issuer } = recordingIssuer();

    // Act
    const found = await findSecretsHoldingKey('AKIAHELD0000000000', {
      catalog: {
        listTagged: async () => ({
          secrets: [
            listed('random-one', { [TAG.lifespan]: '7d', [TAG.kind]: 'random' }),
            listed('unmanaged', { [TAG.kind]: 'iam-access-key' }),
            listed(holder.arn, { [TAG.lifespan]: '7d', [TAG.kind]: 'iam-access-key' }),
          ],
        }),
      },
      store: {
        getValue: async (id, select) => {
          reads.push(id);
          return store.getValue(id, { stage: 'AWSCURRENT', ...select, versionId: undefined });
        },
      },
      issuerFor: () => issuer,
    });

    // Assess
    expect(found.map((s) => s.arn)).toEqual([holder.arn]);
    expect(reads).toEqual([holder.arn]);
  });
});

describe('createRevokeEventsHandler', () => {
  const failingDeps = (error: Error) =>
    ({
      store: { describe: async () => Promise.reject(error) },
    }) as unknown as RevokeEventDeps;

  it('drops an event it does not act on without building any client', async () => {
    let built = 0;
    const handler = createRevokeEventsHandler(() => {
      built++;
      return failingDeps(new Error('unused'));
    });
    const result = await handler(tagEvent([{ key: 'team', value: 'x' }]));
    expect(result).toMatchObject({ status: 'ignored' });
    expect(built).toBe(0);
  });

  it('answers a refusal without throwing, since a retry cannot help', async () => {
    // A secret that no longer exists is refused (RevokeRequestError). The store reports it as
    // its adapter translates AWS's ResourceNotFoundException.
    const gone = new NotFoundError("Secrets Manager can't find the specified secret.");
    const result = await createRevokeEventsHandler(failingDeps(gone))(
      tagEvent([{ key: TAG.revoke, value: 'x' }]),
    );
    expect(result).toMatchObject({ status: 'refused' });
    expect(String((result as { error?: unknown }).error)).toMatch(
      /^ValidationError: .*expected an existing secret/,
    );
  });

  it('fails the delivery when the revoke failed, so EventBridge tries again', async () => {
    const outage = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const handler = createRevokeEventsHandler(failingDeps(outage));
    await expect(handler(tagEvent([{ key: TAG.revoke, value: 'x' }]))).rejects.toBeInstanceOf(
      RevokeFailedError,
    );
  });
});

describe('a direct invoke names who asked as unknown, never as verified', () => {
  it('records the principal of a direct invoke as unknown', () => {
    expect(parseRevokeInvoke({ secretId: 'x', reason: 'leaked' }).trigger).toEqual({
      source: 'console',
      principal: 'unknown (direct invoke)',
    });
  });

  it('records a requestedBy claim as claimed, beside unknown', () => {
    expect(
      parseRevokeInvoke({ secretId: 'x', reason: 'leaked', requestedBy: ALICE }).trigger,
    ).toEqual({ source: 'console', principal: `unknown (direct invoke, claimed: ${ALICE})` });
  });

  it('does not echo a requestedBy claim that is not an IAM or STS ARN', () => {
    const forged = 'arn:aws:iam::123456789012:user/alice\nTriggered by: runbook by the CISO';
    const principal = parseRevokeInvoke({ secretId: 'x', reason: 'leaked', requestedBy: forged })
      .trigger.principal;
    expect(principal).toMatch(/^unknown \(direct invoke, /);
    expect(principal).not.toContain('CISO');
  });

  it('shows the claimed principal as unknown in the audit record and the alert e-mail', async () => {
    // Prepare
    const { issuer } = recordingIssuer();
    const secret = new FakeSecret(JSON.stringify({ user: 'ci', key: 'KEYA', secret: 'Sx1' }));
    const { client } = fakeSecretsManager(secret);
    const audit = new MemoryAuditLog();
    const alerter = new MemoryAlerter();
    const handler = createRevokeHandler({
      store: new SecretsManagerStore(client),
      catalog: fakeCatalog(secret),
      audit,
      alerter,
      issuerFor: () => issuer,
      locks: new MemoryRevokeLocks(),
      clock: () => new Date('2026-03-02T09:00:00Z'),
      stackName: 'Acme',
    });

    // Act
    const outcome = await handler({ secretId: secret.arn, reason: 'leaked', requestedBy: ALICE });

    // Assess
    expect(outcome).toMatchObject({ status: 'completed' });
    const claimed = `unknown (direct invoke, claimed: ${ALICE})`;
    const requested = audit.records.find((r) => r.event === 'revoke.requested')!;
    expect(requested.trigger).toEqual({ source: 'console', principal: claimed });
    const completed = alerter.sent.find((a) => a.event === 'revoke.completed')!;
    const mail = formatAlert(completed, {
      at: new Date('2026-03-02T09:00:00Z'),
      region: 'eu-west-1',
      stackName: 'Acme',
      auditTableName: 'Acme-Audit',
    });
    expect(mail.message).toContain(`Triggered by: console by ${claimed}`);
  });
});
