// The `token-rotation` executable's body: runs the CLI on this process's arguments and sets its
// exit code. bin/token-rotation.mjs runs it through tsx in this repository; the package ships it
// bundled by esbuild into one file (infra/build-package.ts) that needs nothing but node.
import { run } from './main.ts';

// The SDK's notice that it will need Node 22 from 2027 is not the operator's concern here.
process.removeAllListeners('warning');
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
