// `token-rotation scan`, the work: read the sources, recognise tokens (offline by checksum; online
// through the token index too), read each finding's liveness back, optionally revoke what is
// live and read back again. The command (cli/commands/scan.ts) only parses and prints.
import { FingerprintKeyError, MIN_FINGERPRINT_KEY_LENGTH } from '#domain/keyed-fingerprint';
import { createPacer } from '#domain/pacer';
import { CliError, type Connection, explain, STACK_OUTPUT, type Stack } from '../aws.ts';
import { invokeRevokeFunction } from '../revoke-function.ts';
import { type FileScanStats, readAll, scanPaths } from './files.ts';
import { findingsOf, type Online, rejudge } from './findings.ts';
import { type GitScanStats, scanHistory, scanStaged } from './git.ts';
import { lookUpFingerprints, SecretReader } from './lookup.ts';
import type { ScanReport, ScanSummary } from './report.ts';
import { revokeLive } from './revoke.ts';
import { Sightings } from './sightings.ts';

export type ScanSource =
  | { kind: 'paths'; paths: string[] }
  | { kind: 'stdin' }
  | { kind: 'git'; repo: string; refs: string[] }
  | { kind: 'staged'; repo: string };

export interface ScanRequest {
  source: ScanSource;
  offline: boolean;
  revoke: boolean;
}

export interface ScanDeps {
  connection: Connection;
  stack(): Promise<Stack>;
  stdin: AsyncIterable<Buffer | string>;
  /** A progress line (the command decides whether it is shown). */
  progress(text: string): void;
}

/** Index lookups a second: far under DynamoDB's on-demand limits, and bounded all the same. */
export const LOOKUPS_PER_SECOND = 1_000;
/** Progress every this many files, blobs or lookups. */
const PROGRESS_EVERY = 1_000;

const every = (n: number) => n > 0 && n % PROGRESS_EVERY === 0;

/** Reads the sources into sightings. */
async function read(
  request: ScanRequest,
  deps: ScanDeps,
): Promise<{ sightings: Sightings; summary: ScanSummary }> {
  const { source } = request;
  const online = !request.offline;
  deps.progress(`scan: reading ${describeSource(source)}${online ? '' : ' (offline)'}…`);
  if (source.kind === 'git' || source.kind === 'staged') {
    const sightings = new Sightings(online, source.kind === 'git');
    const tick = (s: GitScanStats) => {
      if (every(s.blobs))
        deps.progress(
          `scan: ${s.blobs} blobs scanned (of ${s.commits || 'the index'}${s.commits ? ' commits' : ''})`,
        );
    };
    const stats =
      source.kind === 'git'
        ? await scanHistory(source.repo, source.refs, sightings, tick)
        : await scanStaged(source.repo, sightings, tick);
    return {
      sightings,
      summary: {
        source: source.kind === 'git' ? 'git history' : 'git index',
        online,
        files: stats.blobs,
        ...(source.kind === 'git' && { commits: stats.commits }),
        skippedBinary: stats.skippedBinary,
        skippedLarge: stats.skippedLarge,
      },
    };
  }
  const sightings = new Sightings(online);
  if (source.kind === 'stdin') {
    sightings.scan(await readAll(deps.stdin), (line) => ({ path: '(stdin)', line }));
    return {
      sightings,
      summary: { source: 'stdin', online, files: 1, skippedBinary: 0, skippedLarge: 0 },
    };
  }
  const stats = await scanPaths(source.paths, sightings, (s: FileScanStats) => {
    if (every(s.files)) deps.progress(`scan: ${s.files} files scanned`);
  });
  return {
    sightings,
    summary: {
      source: 'files',
      online,
      files: stats.files,
      skippedBinary: stats.skippedBinary,
      skippedLarge: stats.skippedLarge,
    },
  };
}

function describeSource(source: ScanSource): string {
  if (source.kind === 'git') {
    return `the history of ${source.repo} (${source.refs.length > 0 ? source.refs.join(' ') : 'every ref'})`;
  }
  if (source.kind === 'staged') return `the files staged in ${source.repo}`;
  if (source.kind === 'stdin') return 'stdin';
  return source.paths.join(' ');
}

/** The fingerprint key, the index and the read-back, from the stack's outputs. */
async function goOnline(deps: ScanDeps): Promise<Online & { stack: Stack }> {
  let stack: Stack;
  try {
    stack = await deps.stack();
  } catch (error) {
    const failure = explain(error, deps.connection);
    throw new CliError(`${failure.message}\n(To scan without AWS, by checksum only: --offline.)`);
  }
  const keyArn = stack.require(STACK_OUTPUT.fingerprintKey);
  const tableName = stack.require(STACK_OUTPUT.auditTable);
  let key: string | undefined;
  try {
    key = await deps.connection.store.getValue(keyArn);
  } catch (error) {
    throw new CliError(
      `cannot read the fingerprint key ${keyArn}: ${explain(error, deps.connection).message}`,
    );
  }
  if (key === undefined || key.length < MIN_FINGERPRINT_KEY_LENGTH) {
    throw new CliError(
      `the fingerprint key ${keyArn} is not usable: ${new FingerprintKeyError(`expected at least ${MIN_FINGERPRINT_KEY_LENGTH} characters, found ${key?.length ?? 'no value'}`).message}`,
    );
  }
  const pace = createPacer({ ratePerSecond: LOOKUPS_PER_SECOND, burst: 100 });
  return {
    stack,
    key,
    secrets: new SecretReader(deps.connection.store, pace),
    lookUp: async (fingerprints) => {
      if (fingerprints.length >= PROGRESS_EVERY) {
        deps.progress(`scan: looking up ${fingerprints.length} candidates in the token index`);
      }
      try {
        return await lookUpFingerprints(
          deps.connection.dynamo,
          tableName,
          fingerprints,
          pace,
          (done) => {
            if (every(done)) deps.progress(`scan: ${done} of ${fingerprints.length} looked up`);
          },
        );
      } catch (error) {
        throw explain(error, deps.connection);
      }
    },
  };
}

/** Runs one scan; the report holds no token. */
export async function runScan(request: ScanRequest, deps: ScanDeps): Promise<ScanReport> {
  const online = request.offline ? undefined : await goOnline(deps);
  const { sightings, summary } = await read(request, deps);
  deps.progress(
    `scan: ${summary.files} ${summary.source.startsWith('git') ? 'blobs' : 'files'} read${online ? ', looking the candidates up' : ''}`,
  );
  let findings = await findingsOf(sightings.entries(), online);
  if (!request.revoke || !online) return { summary, findings };
  const functionName = online.stack.require(...STACK_OUTPUT.revokeFunction);
  const revokes = await revokeLive(findings, (secretArn, reason) => {
    deps.progress(`scan: raising an emergency revoke of ${secretArn}`);
    return invokeRevokeFunction(deps.connection, functionName, {
      secretArn,
      reason,
      mode: 'reissue',
    });
  });
  for (const r of revokes) online.secrets.forget(r.secretArn);
  findings = await rejudge(findings, online);
  return { summary, findings, revokes };
}
