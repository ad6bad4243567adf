// The CDK app `npx cdk synth|deploy` runs (cdk.json). Settings come from context: see
// infra/context.ts and the Deploy section of the README.
import { App } from 'aws-cdk-lib';
import { buildApp } from './context.ts';

try {
  const app = new App();
  buildApp(app);
  app.synth();
} catch (error) {
  // A setting or prop the user got wrong: the message says what and what is allowed, and a stack
  // trace under it would only hide it. `cdk --debug` (CDK_DEBUG) shows the trace for a real bug.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`token-rotation: ${message}\n`);
  if (process.env.CDK_DEBUG === 'true' && error instanceof Error) {
    process.stderr.write(`${error.stack}\n`);
  }
  // Exit now: with CDK_OUTDIR set, the App would synthesize again on beforeExit.
  process.exit(1);
}
