// Registers aws-sdk-client-mock's matchers (toHaveReceivedCommand…) with their types.
import 'aws-sdk-client-mock-vitest/extend';

// Powertools' Logger and Metrics write their JSON lines to process.stdout directly, past vitest's console
// capture, so `silent: 'passed-only'` cannot hold them back. Hand them to console.log instead:
// a passing test stays quiet and a failing test shows its log lines next to its error. Tests
// that collect log lines (canary checks) spy on process.stdout.write themselves and see the
// lines before this does.
// Log lines, and the metrics' embedded-metric-format lines.
const POWERTOOLS_LINE = /^\{"(level|_aws)":/;
const write = process.stdout.write.bind(process.stdout);
let forwarding = false;
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  if (!forwarding && typeof chunk === 'string' && POWERTOOLS_LINE.test(chunk)) {
    forwarding = true;
    try {
      console.log(chunk.trimEnd());
    } finally {
      forwarding = false;
    }
    return true;
  }
  return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;
