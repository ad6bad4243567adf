// Which AWS an integration file runs against, and what it does when that AWS cannot serve it.
// With AWS_ENDPOINT_URL set, every integration test runs against that endpoint and nothing else:
// a file that needs something the endpoint does not offer is skipped with the missing thing
// named, never run on the embedded local AWS instead and never counted as passed.
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach } from 'vitest';

export { scaled, TIMEOUT_SCALE } from './timeout-scale.ts';

/**
 * The external AWS the suite is pointed at: AWS_ENDPOINT_URL, or 'aws' with
 * INTEGRATION_TARGET=aws (a real account through the SDK's own endpoints and credentials);
 * undefined runs it on the embedded local AWS.
 */
export const EXTERNAL_ENDPOINT: string | undefined =
  process.env.AWS_ENDPOINT_URL || (process.env.INTEGRATION_TARGET === 'aws' ? 'aws' : undefined);

/** The endpoint URL to hand deployed functions; undefined for a real account. */
export const ENDPOINT_URL: string | undefined = process.env.AWS_ENDPOINT_URL || undefined;

/** Skips every test of the file with `reason`, recorded for `npm run test:external`'s summary. */
export function skipFile(fileUrl: string, reason: string): void {
  // Recorded now, not in a hook: a file that also skips its describe blocks runs no hook at all.
  recordSkip(basename(fileURLToPath(fileUrl)), reason);
  beforeEach((context) => context.skip(reason));
}

/** Where skipped files and their reasons go, for the external run's summary (one JSON a line). */
function recordSkip(file: string, reason: string): void {
  const log = process.env.INTEGRATION_SKIP_LOG;
  if (log) appendFileSync(log, `${JSON.stringify({ file, reason })}\n`);
}
