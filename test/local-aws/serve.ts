// Runs the local AWS standalone, for pointing other tools at it:
//   npx tsx test/local-aws/serve.ts [--port 4566] [--region us-east-1]
// then, elsewhere: AWS_ENDPOINT_URL=http://127.0.0.1:4566 aws secretsmanager list-secrets
import { parseArgs } from 'node:util';
import { startLocalAws } from './index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4566' },
    region: { type: 'string', default: 'us-east-1' },
  },
});

const aws = await startLocalAws({ port: Number(values.port), region: values.region });
console.log(`local AWS listening on ${aws.endpoint} (secretsmanager, sns, dynamodb, lambda)`);
console.log(`  export AWS_ENDPOINT_URL=${aws.endpoint} AWS_REGION=${aws.region}`);
console.log(
  `  export AWS_ACCESS_KEY_ID=${aws.env.AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${aws.env.AWS_SECRET_ACCESS_KEY}`,
);

const shutdown = () => {
  void aws.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
