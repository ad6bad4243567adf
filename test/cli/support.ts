// Runs the operator CLI in-process against the embedded local AWS, as an operator would run it
// against an account: credentials and endpoint from the environment, output captured as read.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CreateSecretCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import { AUDIT_TABLE, secretPk } from '#adapters/audit-table';
import type { RevokeRequester, SweepCursor } from '#domain/ports';
import { scheduleFor } from '#domain/schedule';
import { runSweep, type SweepReport } from '#domain/sweep/index';
import type { LocalAws } from '#local-aws/index';
import type { InstalledSuite } from '#local-aws/suite';
import { run } from '../../cli/main.ts';
import { localEnv } from '../support/local-env.ts';
import { onEachFile } from '../support/per-file.ts';

export { listConsistencyLagMs, settleListings } from '../support/settle-listings.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Creates a secret with `tags`, as an operator would before opting it in; returns its ARN. */
export async function createTaggedSecret(
  secretsManager: SecretsManagerClient,
  name: string,
  value: string,
  tags: Record<string, string>,
): Promise<string> {
  const out = await secretsManager.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: value,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return out.ARN!;
}

/**
 * One sweep pass, as deployed, with its cursor kept in memory: attaches rotation to every opted-in
 * secret (and hands revoke tags to `revokes`, when given). Returns the sweep's report.
 */
export async function sweepOnce(
  aws: { clock: { now(): Date }; idle(): Promise<void> },
  suite: Pick<InstalledSuite, 'sweepDeps' | 'rotationFunctionArn' | 'sweepIntervalMs'>,
  revokes?: RevokeRequester,
): Promise<SweepReport> {
  let saved: SweepCursor | undefined;
  const report = await runSweep(
    {
      ...suite.sweepDeps,
      ...(revokes && { revokes }),
      cursor: {
        get: async () => saved,
        put: async (cursor) => {
          saved = cursor;
        },
        clear: async () => {
          saved = undefined;
        },
      },
    },
    {
      rotationFunctionArn: suite.rotationFunctionArn,
      sweepIntervalMs: suite.sweepIntervalMs,
      deadline: new Date(aws.clock.now().getTime() + 3_600_000),
    },
  );
  await aws.idle();
  return report;
}

/** Every item of a secret's audit partition, as someone with write access to the table sees it. */
export async function auditPartition(suite: InstalledSuite, arn: string) {
  const out = await suite.dynamo.send(
    new QueryCommand({
      TableName: suite.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': secretPk(arn) },
    }),
  );
  return out.Items ?? [];
}

/** Deletes one item of a secret's audit partition, as someone with write access could. */
export async function deleteAuditItem(suite: InstalledSuite, arn: string, sk: string) {
  await suite.dynamo.send(
    new DeleteCommand({
      TableName: suite.tableName,
      Key: { [AUDIT_TABLE.partitionKey]: secretPk(arn), [AUDIT_TABLE.sortKey]: sk },
    }),
  );
}

/** Everything any CLI run printed in this test file, for the canary checks. */
export const printed: string[] = [];
// This module outlives the file that first imported it (shared modules): emptied for each file.
onEachFile(() => {
  printed.length = 0;
});

/** The standard SDK environment for the local AWS (and nothing from the developer's own ~/.aws). */
export function useLocalAwsEnv(aws: Pick<LocalAws, 'env'>): void {
  for (const [key, value] of Object.entries(localEnv(aws))) vi.stubEnv(key, value);
}

export { localEnv };

/** `token-rotation <argv>` in this process, with "now" read from the local AWS's clock. */
export async function cli(aws: { clock: { now(): Date } }, ...argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    clock: aws.clock.now,
  });
  printed.push(stdout, stderr);
  return { code, stdout, stderr };
}

const BIN = fileURLToPath(new URL('../../bin/token-rotation.mjs', import.meta.url));

/** `node bin/token-rotation.mjs <argv>` in a child process with exactly `env` (plus PATH). */
export function spawnCli(env: Record<string, string>, ...argv: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent/token-rotation-cli-test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      printed.push(stdout, stderr);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Rows of a CSV text (RFC 4180: quoted fields, doubled quotes, CRLF), comment lines kept apart. */
export function parseCsv(text: string): { comments: string[]; rows: string[][] } {
  const comments: string[] = [];
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (atLineStart && c === '#') {
      const end = text.indexOf('\r\n', i);
      comments.push(text.slice(i + 2, end));
      i = end + 1;
      continue;
    }
    atLineStart = false;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
      atLineStart = true;
    } else field += c;
  }
  return { comments, rows };
}

/**
 * A rendered table read back as a person reads it: the first line is the header, and each
 * column starts where its header does. Stops at the first blank line (the summary follows).
 */
export function readTable(stdout: string): Record<string, string>[] {
  const lines = stdout.split('\n');
  const header = lines[0] ?? '';
  const starts = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index }));
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') break;
    rows.push(
      Object.fromEntries(
        starts.map((col, i) => [
          col.name,
          line.slice(col.at, starts[i + 1]?.at ?? line.length).trim(),
        ]),
      ),
    );
  }
  return rows;
}

/**
 * Attaches the suite's rotation function to `secretId` with the schedule the sweep gives
 * `lifespanMs`, as the sweep does, rotating now or not.
 */
export async function attachRotation(
  suite: Pick<InstalledSuite, 'secretsManager' | 'rotationFunctionArn'>,
  secretId: string,
  lifespanMs: number,
  rotateImmediately: boolean,
): Promise<void> {
  const schedule = scheduleFor(lifespanMs);
  await suite.secretsManager.send(
    new RotateSecretCommand({
      SecretId: secretId,
      RotationLambdaARN: suite.rotationFunctionArn,
      RotationRules: {
        ScheduleExpression: schedule.scheduleExpression,
        Duration: schedule.duration,
      },
      RotateImmediately: rotateImmediately,
    }),
  );
}

/**
 * A version's stages as a table cell lists them ("AWSPENDING,AWSCURRENT"), without the AWSPENDING
 * a finished rotation may leave on AWSCURRENT (AWS documents both end states): what a test expects
 * of a version then reads the same under LOCAL_AWS_PENDING_END_STATE=kept and removed.
 */
export function finishedStages(cell: string | undefined): string | undefined {
  if (!cell?.includes('AWSCURRENT')) return cell;
  return cell.replace(/\bAWSPENDING,|,AWSPENDING\b/g, '');
}
