// What on-call sees most, in the demo: a rotation that fails and its rotation.failed e-mail (with
// the command to run, every value filled in), a quarantine through the EmergencyRevoke runbook
// (the document the stack ships, started with StartAutomationExecution on the local AWS by a
// person whose name the audit and the alert then carry), and `status --check` catching it.
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { TAG } from '#domain/vocabulary';
import type { LocalAws } from '#local-aws/index';
import { type AutomationContent, SsmAutomation } from '#local-aws/ssm-automation';
import type { InstalledSuite } from '#local-aws/suite';
import { runbookContent } from '../../../infra/revoke-runbook.ts';
import { expectingFailure, type Timeline } from '../stage.ts';
import { demoCli } from './cli.ts';

const LEDGER = 'demo/ledger-api-key';
const RESPONDER = 'dana';

export interface OnCallDeps {
  aws: LocalAws;
  suite: InstalledSuite;
  /** Creates a secret as the story's other secrets are made (kept for the canary and the report). */
  create(
    name: string,
    value: string,
    kind?: string,
    tags?: Record<string, string>,
  ): Promise<{
    name: string;
    arn: string;
  }>;
  settle(): Promise<void>;
  /** A random token as the demo's secrets hold them. */
  token(prefix: string): string;
}

/** The e-mails of one event about `secret`, as the alert topic received them. */
function mails(aws: LocalAws, suite: InstalledSuite, secret: string, event: string) {
  return aws.sns
    .messagesTo(suite.topicArn)
    .filter(
      (m) =>
        m.attributes.secret?.StringValue === secret && m.attributes.event?.StringValue === event,
    );
}

function showMail(tl: Timeline, m: { subject?: string; message: string }) {
  tl.raw(`   Subject: ${m.subject ?? '(none)'}`);
  for (const line of m.message.split('\n')) tl.raw(`   │ ${line}`);
}

const cli = (aws: LocalAws, ...argv: string[]) => demoCli(aws, argv);

export async function onCallScenes(tl: Timeline, deps: OnCallDeps): Promise<void> {
  const { aws, suite } = deps;
  let ledger!: { name: string; arn: string };

  await tl.stage(`A rotation fails: ${LEDGER} holds a value its kind cannot rotate`, async () => {
    // Someone stored the token under "apiKey", not "token": the random kind finds no token.
    ledger = await deps.create(
      LEDGER,
      JSON.stringify({ apiKey: deps.token('ledger_'), owner: 'ledger-team' }),
      undefined,
      { [TAG.lifespan]: '7d' },
    );
    // The e-mail below says what the rotation function's ERROR lines say, and the demo's own
    // checks still fail if it is not sent.
    await expectingFailure(async () => {
      await suite.secretsManager.send(new RotateSecretCommand({ SecretId: ledger.arn }));
      await deps.settle();
    });
    const failed = mails(aws, suite, LEDGER, 'rotation.failed');
    for (const m of failed) showMail(tl, m);
    tl.check(
      failed.length === 1,
      'one rotation.failed e-mail, however often Secrets Manager retried',
    );
    const command = failed[0]!.message
      .split('\n')
      .find((line) => line.includes('aws secretsmanager update-secret-version-stage'));
    tl.check(
      command?.includes(`--secret-id ${LEDGER}`) && !/<[a-z]+>/.test(command),
      'its command names the secret and the version: it runs as it stands, no <placeholder> to fill',
    );
  });

  await tl.stage(`Quarantine ${LEDGER} with the EmergencyRevoke runbook`, async () => {
    // Systems Manager on the local AWS, running the document the stack ships.
    const principals = new Map<string, string>();
    const automation = new SsmAutomation({
      region: aws.region,
      accountId: aws.accountId,
      clock: aws.clock,
      lambda: aws.functions,
      principalOf: (caller) => principals.get(caller.accessKeyId) ?? 'unknown',
    });
    aws.addService('ssm', automation.handle);
    const runbook = `${suite.stackName}-EmergencyRevoke`;
    automation.createDocument(
      runbook,
      runbookContent(
        `arn:aws:iam::${aws.accountId}:role/${suite.stackName}-runbook`,
        suite.functions.revoke,
      ) as unknown as AutomationContent,
    );
    const { arn } = aws.iam.createUser(RESPONDER);
    const key = aws.iam.createAccessKey(RESPONDER);
    principals.set(key.accessKeyId, arn);
    const ssm = new SSMClient({
      ...aws.clientConfig,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    });
    const { AutomationExecutionId } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: runbook,
        Parameters: {
          SecretId: [LEDGER],
          Reason: ['ledger key seen in a public gist'],
          Mode: ['quarantine'],
        },
      }),
    );
    ssm.destroy();
    await automation.idle();
    await deps.settle();
    const execution = automation.executions.get(AutomationExecutionId!);
    tl.say(
      `${runbook} execution ${AutomationExecutionId?.slice(0, 8)} by ${execution?.ExecutedBy}: ${execution?.AutomationExecutionStatus}`,
    );
    tl.check(execution?.AutomationExecutionStatus === 'Success', 'the runbook ran to the end');
    const records = (await suite.audit.history(ledger.arn)).filter(
      (r) => r.event === 'revoke.completed',
    );
    tl.check(
      records.length === 1 &&
        records[0]!.trigger.source === 'runbook' &&
        records[0]!.trigger.principal === arn,
      `revoke.completed is audited as requested by ${arn} (ExecutedBy, read back from Systems Manager)`,
    );
    const alert = mails(aws, suite, LEDGER, 'revoke.completed');
    tl.check(
      alert.length === 1 && alert[0]!.message.includes(`runbook by ${arn}`),
      'the critical revoke.completed e-mail names who ran the runbook',
    );
  });

  await tl.stage(
    'Cron runs `token-rotation status --check`: it catches the quarantine',
    async () => {
      const { code, stdout } = await cli(aws, 'status', '--check', '--quiet');
      for (const line of stdout.trimEnd().split('\n')) tl.say(line);
      tl.say(`exit code ${code}`);
      const row = stdout.split('\n').find((line) => line.startsWith(LEDGER));
      tl.check(
        code === 1 && row?.includes('quarantined'),
        `status --check exits 1 and marks ${LEDGER} quarantined`,
      );
    },
  );
}
