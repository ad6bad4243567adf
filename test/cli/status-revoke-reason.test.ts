// `status` shows a pending revoke tag's reason scrubbed of the secret's own values, as the revoke
// records it: the person asking often pastes the leaked token into the reason.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/logger';
import { STAGE, TAG } from '#domain/vocabulary';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { statusOf } from '../../cli/commands/status.ts';
import { cli, createTaggedSecret, readTable, settleListings, useLocalAwsEnv } from './support.ts';

/** Short and with punctuation, as a hand-set token often is: nothing token-shaped to spot. */
const PASSWORD = 'p4ss:w0rd!';
const TOKEN = 'acme_live_reasonSeed0123456789abcdefXYZ';
const PLAIN = 'reason/plain-password';
const JSON_TOKEN = 'reason/json-token';

let aws: LocalAws;
let suite: InstalledSuite;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  aws = await startLocalAws();
  suite = await installSuite(aws);
  useLocalAwsEnv(aws);
  await createTaggedSecret(suite.secretsManager, PLAIN, PASSWORD, {
    [TAG.lifespan]: '7d',
    [TAG.revoke]: `leaked: ${PASSWORD} seen in #payments`,
  });
  await createTaggedSecret(suite.secretsManager, JSON_TOKEN, JSON.stringify({ token: TOKEN }), {
    [TAG.lifespan]: '7d',
    [TAG.revoke]: `curl -H "Authorization: Bearer ${TOKEN}" in a ticket`,
  });
  // Status lists with ListSecrets, which may leave out what changed in the last minutes.
  await settleListings(aws);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.stop();
});

describe('status with a revoke requested by tag', () => {
  it('shows the reason without the secret value pasted into it, in the table and in JSON', async () => {
    // Act
    const table = await cli(aws, 'status', '--quiet');
    const json = await cli(aws, 'status', '--quiet', '--format', 'json');

    // Assess
    for (const output of [table.stdout, table.stderr, json.stdout, json.stderr]) {
      expect(output).not.toContain(PASSWORD);
      expect(output).not.toContain(TOKEN);
    }
    const notes = Object.fromEntries(
      (JSON.parse(json.stdout) as { name: string; notes: string[] }[]).map((row) => [
        row.name,
        row.notes.join('; '),
      ]),
    );
    expect(notes[PLAIN]).toMatch(/emergency revoke requested: leaked: .+ seen in #payments/);
    expect(notes[JSON_TOKEN]).toMatch(/emergency revoke requested: curl -H .+ in a ticket/);
    expect(readTable(table.stdout).map((row) => row.SECRET)).toEqual([JSON_TOKEN, PLAIN]);
  });

  it("shows only the reason's length when the secret's values could not be read", () => {
    // Act: status could not read the versions, so it has no values to scrub with
    const row = statusOf(
      {
        arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:reason/unreadable-AbCdEf',
        name: 'reason/unreadable',
        rotationEnabled: true,
        versions: { v1: [STAGE.current] },
        tags: { [TAG.lifespan]: '7d', [TAG.revoke]: `leaked: ${PASSWORD}` },
      },
      { v1: new Date('2026-06-01T00:00:00Z') },
      undefined,
      new Date('2026-06-02T00:00:00Z'),
    );

    // Assess
    expect(row.notes.join('; ')).toContain(
      'emergency revoke requested (its 18-character reason is not shown',
    );
    expect(row.notes.join('; ')).not.toContain(PASSWORD);
  });
});
