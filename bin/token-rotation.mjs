#!/usr/bin/env node
// `npx token-rotation <command>`: runs the operator CLI (cli/main.ts) with plain node, through
// tsx's ESM loader: the CLI is the same TypeScript the Lambdas are built from, with no build step.
import { register } from 'tsx/esm/api';

// The SDK's notice that it will need Node 22 from 2027 is not the operator's concern here.
process.removeAllListeners('warning');
register();
const { run } = await import('../cli/main.ts');
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
