// Registers aws-sdk-client-mock's matchers (toHaveReceivedCommand…) with their types.
import 'aws-sdk-client-mock-vitest/extend';

// Powertools' Logger and Metrics write their JSON lines to process.stdout and process.stderr
// (warnings and errors) directly, past vitest's console capture, so `silent: 'passed-only'`
// cannot hold them back. Hand them to console.log / console.error instead: a passing test stays
// quiet and a failing test shows its log lines next to its error. Tests that collect log lines
// (canary checks) spy on process.stdout.write or process.stderr.write themselves and see the
// lines before this does.
// Log lines, and the metrics' embedded-metric-format lines; and the CDK's "Bundling asset ..."
// line, which it writes to process.stderr for every function a bundling synth builds.
const QUIET_UNLESS_FAILED = /^(\{"(level|_aws)":|Bundling asset )/;
let forwarding = false;

function forward(stream: NodeJS.WriteStream, toConsole: (line: string) => void): void {
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (!forwarding && typeof chunk === 'string' && QUIET_UNLESS_FAILED.test(chunk)) {
      forwarding = true;
      try {
        toConsole(chunk.trimEnd());
      } finally {
        forwarding = false;
      }
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
}

// Once per worker: in the projects that share a worker's modules this file still runs before
// every test file, and a second forwarder would only sit on top of the first.
const worker = globalThis as { tokenRotationQuietLogs?: true };
if (!worker.tokenRotationQuietLogs) {
  worker.tokenRotationQuietLogs = true;
  forward(process.stdout, (line) => console.log(line));
  forward(process.stderr, (line) => console.error(line));
}
