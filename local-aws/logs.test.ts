// CloudWatch Logs FilterLogEvents on the functions' log groups, signed as an SDK signs it: what a
// registered handler and a function deployed through Lambda wrote, and AWS's answer for a group
// that does not exist.
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionLogLines } from '../test/integration/support/function-logs.ts';
import { type LocalAws, startLocalAws } from './index.ts';
import { writeZip } from './zip.ts';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

describe('CloudWatch Logs FilterLogEvents', () => {
  it('returns what a registered function wrote while it ran, and nothing written outside its runs', async () => {
    // Prepare
    const arn = aws.functions.register('writer', async (event: { n: number }) => {
      await Promise.resolve();
      // As Powertools' logger writes (vitest's console would not reach the stream); test/setup.ts
      // holds such a line back from the run's console unless the test fails.
      process.stdout.write(`${JSON.stringify({ level: 'INFO', message: 'step', n: event.n })}\n`);
    });
    process.stdout.write(`${JSON.stringify({ level: 'INFO', message: 'not in a function' })}\n`);

    // Act
    await aws.functions.invoke(arn, { n: 1 });
    await aws.functions.invoke(arn, { n: 2 });
    const lines = await functionLogLines(aws, arn);

    // Assess
    expect(lines).toEqual([
      JSON.stringify({ level: 'INFO', message: 'step', n: 1 }),
      JSON.stringify({ level: 'INFO', message: 'step', n: 2 }),
    ]);
  });

  it('returns what a function deployed through Lambda wrote', async () => {
    // Prepare
    aws.iam.createRole('logs-test');
    const lambda = new LambdaClient(aws.clientConfig);
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'deployed-writer',
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::123456789012:role/logs-test',
        Code: {
          ZipFile: writeZip({
            'index.mjs': "export const handler = async () => { console.log('deployed line'); };\n",
          }),
        },
      }),
    );

    // Act
    await lambda.send(new InvokeCommand({ FunctionName: 'deployed-writer' }));

    // Assess
    expect((await functionLogLines(aws, 'deployed-writer')).join('\n')).toContain('deployed line');
  });

  it('fails for a log group that does not exist, as CloudWatch Logs answers', async () => {
    await expect(functionLogLines(aws, 'no-such-function')).rejects.toThrow(
      /400 .*ResourceNotFoundException.*The specified log group does not exist/,
    );
  });
});
