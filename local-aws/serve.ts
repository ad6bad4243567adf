// Runs the local AWS standalone, for pointing other tools at it:
//   npm run serve -- [--port 4566] [--region us-east-1] [--with-suite]
// then, elsewhere: AWS_ENDPOINT_URL=http://127.0.0.1:4566 aws secretsmanager list-secrets
// With --with-suite, token-rotation is installed in it as `cdk deploy` installs it (suite.ts), its
// clock follows real time so the sweep runs on schedule, and the operator CLI works against it.
import { parseArgs } from 'node:util';
import { addSessionControl } from './control.ts';
import { startLocalAws } from './index.ts';
import { installSuite } from './suite.ts';

// The SDK's notice that it will need Node 22 from 2027 is not news to someone running a local AWS.
process.removeAllListeners('warning');

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4566' },
    region: { type: 'string', default: 'us-east-1' },
    'with-suite': { type: 'boolean', default: false },
    'sweep-minutes': { type: 'string', default: '15' },
  },
});

const aws = await startLocalAws({ port: Number(values.port), region: values.region });
// The session API (control.ts): what `npm run test:external` needs to run every file here.
addSessionControl(aws);
console.log(
  `local AWS listening on ${aws.endpoint} (secretsmanager, sns, dynamodb, lambda, logs, iam, sts, cloudformation)`,
);
console.log(`  export AWS_ENDPOINT_URL=${aws.endpoint} AWS_REGION=${aws.region}`);
console.log(
  `  request log: curl ${aws.endpoint}/_local/requests (counts by service; npm run test:external reads it)`,
);
console.log(
  `  control API: curl ${aws.endpoint}/_local/capabilities (sessions, clock, records: local-aws/README.md)`,
);
console.log(
  `  export AWS_ACCESS_KEY_ID=${aws.env.AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${aws.env.AWS_SECRET_ACCESS_KEY}`,
);

let following: NodeJS.Timeout | undefined;
if (values['with-suite']) {
  const sweepIntervalMinutes = Number(values['sweep-minutes']);
  if (!Number.isInteger(sweepIntervalMinutes) || sweepIntervalMinutes < 1) {
    console.error(`--sweep-minutes must be a whole number ≥ 1, got "${values['sweep-minutes']}"`);
    process.exit(2);
  }
  const suite = await installSuite(aws, { triggers: true, sweepIntervalMinutes });
  // The local clock follows the real one, one step at a time, so what falls due (a sweep, a
  // scheduled rotation) runs at its moment, as in an account.
  let stepping = false;
  following = setInterval(() => {
    if (stepping) return;
    stepping = true;
    void aws.clock.set(Date.now()).finally(() => {
      stepping = false;
    });
  }, 1000);
  const secret = 'demo/api-key';
  const endpoint = `--endpoint ${aws.endpoint}`;
  console.log(`
token-rotation installed as stack ${suite.stackName}: tag events, Secrets Manager events, the
revoke tag, and the sweep every ${sweepIntervalMinutes} minutes (real time). Alerts are kept by the local SNS.
With the exports above (and AWS_DEFAULT_REGION=${aws.region} for AWS CLI v1), try:
  aws secretsmanager create-secret --name ${secret} --secret-string '{"token":"acme_live_0123456789abcdef0123456789abcdef"}' --tags Key=token-rotation:lifespan,Value=7d
  aws secretsmanager rotate-secret --secret-id ${secret}
  npx token-rotation status ${endpoint}
  npx token-rotation audit ${secret} ${endpoint}
  npx token-rotation verify-audit ${endpoint}
  npx token-rotation evidence --since 1d --format csv ${endpoint}
  npx token-rotation revoke ${secret} --reason "pasted in a chat" ${endpoint}
  aws secretsmanager tag-resource --secret-id ${secret} --tags Key=token-rotation:revoke,Value=leaked`);
}

const shutdown = () => {
  clearInterval(following);
  void aws.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
