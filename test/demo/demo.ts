// `npm run demo`: the real handlers on the embedded local AWS, printed as a timeline. No AWS
// account, no network. Every stage checks that what it prints really happened.
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { logger } from '#commons/logger';
import { randomIssuer } from '#domain/issuers/random';
import { scheduleFor } from '#domain/schedule';
import { TAG, TAG_PREFIX } from '#domain/vocabulary';
import { startLocalAws } from '#local-aws/index';
import { installSuite } from '#local-aws/suite';
import { check, note, StageFailed, say, stage, table } from './stage.ts';

// The SDK warns that it will need Node 22 from 2027; the Lambdas run on nodejs22.x already.
process.removeAllListeners('warning');
// The handlers' own INFO lines would drown the timeline; warnings and errors still show.
logger.setLogLevel('WARN');

const DAY = 86_400_000;
const SECRET = 'demo/payments-api-key';

async function main(): Promise<void> {
  const aws = await startLocalAws({ clock: '2026-01-05T09:00:00Z' });
  try {
    const suite = await installSuite(aws);
    const sm = suite.secretsManager;
    let arn = '';

    const versions = async () => {
      const { Versions = [] } = await sm.send(
        new ListSecretVersionIdsCommand({ SecretId: SECRET }),
      );
      const rows = [['version', 'stages', 'token', 'created']];
      const byStage: Record<string, string> = {};
      for (const v of Versions) {
        const value = await sm.send(
          new GetSecretValueCommand({ SecretId: SECRET, VersionId: v.VersionId }),
        );
        const name = randomIssuer.name(value.SecretString ?? '');
        for (const s of v.VersionStages ?? []) byStage[s] = name;
        rows.push([
          v.VersionId!.slice(0, 8),
          (v.VersionStages ?? []).join(','),
          name,
          v.CreatedDate!.toISOString(),
        ]);
      }
      table(rows);
      return { versions: Versions, byStage };
    };

    await stage('Start the embedded local AWS and install token-rotation', async () => {
      say(`endpoint ${aws.endpoint}  (Secrets Manager, DynamoDB, SNS on one loopback port)`);
      say(`audit table ${suite.tableName}, alert topic ${suite.topicArn}`);
      say(`rotation function ${suite.rotationFunctionArn}`);
      note(`local clock: ${aws.clock.now().toISOString()}`);
    });

    await stage(
      `Create ${SECRET} holding an API token, and tag it ${TAG.lifespan}=7d`,
      async () => {
        const created = await sm.send(
          new CreateSecretCommand({
            Name: SECRET,
            // A token your service checks; the other fields ride along with every new token.
            SecretString: JSON.stringify({
              token: 'acme_live_seedTokenFromTheOldDaysNotRandomAtAll0000',
              owner: 'payments-team',
              scopes: ['charges:write'],
            }),
          }),
        );
        arn = created.ARN!;
        await sm.send(
          new TagResourceCommand({ SecretId: SECRET, Tags: [{ Key: TAG.lifespan, Value: '7d' }] }),
        );
        const described = await sm.send(new DescribeSecretCommand({ SecretId: SECRET }));
        const tags = (described.Tags ?? []).filter((t) => t.Key?.startsWith(TAG_PREFIX));
        check(
          tags.some((t) => t.Key === TAG.lifespan && t.Value === '7d'),
          'the secret carries the lifespan tag',
        );
      },
    );

    await stage(
      'Attach rotation with a schedule derived from the 7-day lifespan, and rotate',
      async () => {
        const schedule = scheduleFor(7 * DAY);
        say(
          `schedule ${schedule.scheduleExpression}, window ${schedule.duration}: worst-case token age ${Math.round(schedule.worstCaseAgeMs / 3_600_000)}h ≤ 168h`,
        );
        aws.secretsManager.calls.reset();
        await sm.send(
          new RotateSecretCommand({
            SecretId: SECRET,
            RotationLambdaARN: suite.rotationFunctionArn,
            RotationRules: {
              ScheduleExpression: schedule.scheduleExpression,
              Duration: schedule.duration,
            },
          }),
        );
        await aws.idle();
        const byOperation = aws.secretsManager.calls.byOperation({ secret: arn });
        const rotationCalls = Object.entries(byOperation)
          .filter(([op]) => op !== 'RotateSecret')
          .reduce((sum, [, n]) => sum + n, 0);
        check(
          rotationCalls <= 8,
          `the rotation made ${rotationCalls} Secrets Manager calls (budget: 8)`,
        );
        const { byStage, versions: all } = await versions();
        check(
          byStage.AWSCURRENT?.startsWith('fp:'),
          'AWSCURRENT holds a new token, named by fingerprint only',
        );
        check(
          byStage.AWSPREVIOUS && byStage.AWSPREVIOUS !== byStage.AWSCURRENT,
          'AWSPREVIOUS holds the old token (it keeps working through grace)',
        );
        check(
          !all.some(
            (v) =>
              v.VersionStages?.includes('AWSPENDING') && !v.VersionStages.includes('AWSCURRENT'),
          ),
          'no rotation left in progress',
        );
        const current = JSON.parse(
          (await sm.send(new GetSecretValueCommand({ SecretId: SECRET }))).SecretString ?? '{}',
        );
        check(
          current.owner === 'payments-team' && current.scopes?.[0] === 'charges:write',
          'owner and scopes carried over unchanged',
        );
        check(
          typeof current.token === 'string' && current.token.startsWith('acme_live_'),
          'the new token keeps the acme_live_ prefix',
        );
        const verified = await randomIssuer
          .verify({
            secretArn: arn,
            secretName: SECRET,
            versionId: '',
            pending: JSON.stringify(current),
          })
          .then(
            () => true,
            () => false,
          );
        check(verified, 'the new token passes its checksum');
      },
    );

    await stage('Read the audit trail and verify its hash chain', async () => {
      const records = await suite.audit.history(arn);
      table([
        ['#', 'at', 'event', 'step', 'outcome', 'trigger'],
        ...records.map((r) => [
          String(r.seq),
          r.at,
          r.event,
          r.step ?? '',
          r.outcome,
          r.trigger.source,
        ]),
      ]);
      const report = await suite.audit.verify(arn);
      check(
        records.filter((r) => r.event === 'step.succeeded').length === 4,
        'each of the four steps recorded its outcome',
      );
      check(
        report.ok && report.verified === records.length,
        `the chain of ${records.length} records verifies`,
      );
    });

    console.log('\nDemo complete: every stage happened as shown.');
  } finally {
    await aws.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`\nDemo FAILED: ${error instanceof StageFailed ? error.message : String(error)}`);
  process.exit(1);
});
