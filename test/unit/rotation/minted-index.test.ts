// The rotation indexes the token it mints (#domain/rotation/minted-index): the item rides in
// createSecret's audit write, the key comes with AWSCURRENT in one batch read once per container,
// and the index can never cost a rotation its audit record.
import { describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import { fingerprintKeySource } from '#domain/isolation/key';
import type { AuditAlongside } from '#domain/isolation/ports';
import { keyedFingerprint } from '#domain/keyed-fingerprint';
import { issuerFor } from '#domain/kinds/registry';
import type { AuditEntry, AuditRecord } from '#domain/ports';
import { type RotationDeps, rotateStep } from '#domain/rotation/index';
import { STEPS } from '#domain/vocabulary';
import {
  FakeSecret,
  fakeSecretsManager,
  MemoryAlerter,
  MemoryAuditLog,
} from '../support/rotation-fakes.ts';

const KEY = 'k'.repeat(64);
const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fingerprint-key-XyZ123';

/** Keeps what each write carried alongside its record; refuses those with an item when told. */
class IndexingAuditLog extends MemoryAuditLog {
  readonly alongside: (AuditAlongside | undefined)[] = [];
  refuseItems = false;

  override async append(entry: AuditEntry, alongside?: AuditAlongside): Promise<AuditRecord> {
    if (alongside && this.refuseItems) {
      const cause = Object.assign(new Error('not authorized to perform dynamodb:UpdateItem'), {
        name: 'AccessDeniedException',
      });
      throw new Error('audit: could not record', { cause });
    }
    this.alongside.push(alongside);
    return super.append(entry);
  }
}

function setup() {
  const secret = new FakeSecret('acme_live_first-token-set-by-hand');
  const { client, mock } = fakeSecretsManager(secret);
  const store = new SecretsManagerStore(client);
  const audit = new IndexingAuditLog();
  const batches: string[][] = [];
  const deps: RotationDeps = {
    store,
    audit,
    alerter: new MemoryAlerter(),
    issuerFor,
    clock: () => new Date('2030-01-01T00:00:00Z'),
    tokenIndex: {
      keySecretArn: KEY_ARN,
      key: fingerprintKeySource(async () => {
        throw new Error('the key is read only with AWSCURRENT here');
      }),
      async currentValues(ids) {
        batches.push(ids);
        return new Map([
          [secret.arn, secret.valueOf('AWSCURRENT')!],
          [KEY_ARN, KEY],
        ]);
      },
    },
  };
  const rotate = async () => {
    const token = secret.startRotation();
    for (const step of STEPS) {
      await rotateStep(
        { secretId: secret.arn, token, step, trigger: { source: 'secretsmanager' } },
        deps,
      );
    }
    return token;
  };
  const getValues = () =>
    mock.calls().filter((c) => (c.args[0] as object).constructor.name === 'GetSecretValueCommand')
      .length;
  return { secret, audit, batches, rotate, getValues };
}

describe('the minted token in the index', () => {
  it("rides in createSecret's audit write, with the key read once, with AWSCURRENT", async () => {
    // Prepare
    const { secret, audit, batches, rotate, getValues } = setup();

    // Act
    const first = await rotate();
    const afterFirst = getValues();
    const second = await rotate();

    // Assess
    expect(batches).toEqual([[secret.arn, KEY_ARN]]);
    // First rotation: AWSPENDING read alone (testSecret); second: AWSCURRENT too, as without an index.
    expect(afterFirst).toBe(1);
    expect(getValues() - afterFirst).toBe(2);
    const items = audit.alongside.filter((a) => a !== undefined).map((a) => a.tokenSeen);
    expect(items).toEqual([
      expect.objectContaining({ secretArn: secret.arn, versionId: first, stages: ['AWSPENDING'] }),
      expect.objectContaining({ secretArn: secret.arn, versionId: second, stages: ['AWSPENDING'] }),
    ]);
    const minted = secret.versions.get(second)!.value!;
    expect(items[1]?.fingerprint).toBe(keyedFingerprint(KEY, minted));
    expect(JSON.stringify(audit.alongside)).not.toContain(minted);
    const steps = audit.records.map((r) => r.step);
    expect(audit.alongside.length).toBe(steps.length);
  });

  it('never costs the rotation its record: a write refused for the item is made without it', async () => {
    // Prepare
    const { secret, audit, rotate } = setup();
    audit.refuseItems = true;

    // Act
    const token = await rotate();

    // Assess
    expect(secret.versionWith('AWSCURRENT')).toBe(token);
    expect(audit.records.map((r) => [r.step, r.event])).toEqual([
      ['createSecret', 'step.succeeded'],
      ['finishSecret', 'step.succeeded'],
    ]);
    expect(audit.alongside.every((a) => a === undefined)).toBe(true);
  });
});
