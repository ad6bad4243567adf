// The CDK app `npx cdk synth|deploy` runs (cdk.json). Settings come from context: see
// infra/context.ts and the Deploy section of the README.
import { App } from 'aws-cdk-lib';
import { buildApp } from './context.ts';

const app = new App();
buildApp(app);
app.synth();
