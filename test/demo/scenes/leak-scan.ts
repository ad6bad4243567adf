// The demo's leak-scan scene: a live token committed to a throwaway git repository (and deleted
// again in the next commit) is found by `token-rotation scan --git --revoke`, revoked through the
// revoke function, and the scan reports what it read back afterwards.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mintToken } from '#domain/tokens';
import { TAG } from '#domain/vocabulary';
import type { LocalAws } from '#local-aws/index';
import type { InstalledSuite } from '#local-aws/suite';
import { throwawayGit } from '../../support/throwaway-git.ts';
import type { Timeline } from '../stage.ts';
import { demoCli } from './cli.ts';

const SECRET = 'demo/billing-api-key';

export interface LeakScanScene {
  aws: LocalAws;
  suite: InstalledSuite;
  /** Every secret value the scene creates or reads, for the demo's last check. */
  remember(value: string): void;
  settle(): Promise<void>;
  /** Moves the clock forward (the sweep runs on its schedule) and says why. */
  advance(ms: number, why: string): Promise<void>;
  /** Adds the scene's secret to the story's secrets (the report and the last check cover it). */
  track(secret: { name: string; arn: string; versionId: string }): void;
}

const cli = demoCli;

export async function leakScanScene(tl: Timeline, scene: LeakScanScene): Promise<void> {
  const { aws, suite } = scene;
  await tl.stage(
    `A live token committed to a git repository: token-rotation scan --git --revoke`,
    async () => {
      const token = mintToken('acme_live_x');
      scene.remember(token);
      const created = await suite.secretsManager.send(
        new CreateSecretCommand({
          Name: SECRET,
          SecretString: token,
          Tags: [{ Key: TAG.lifespan, Value: '30d' }],
        }),
      );
      scene.track({ name: SECRET, arn: created.ARN!, versionId: created.VersionId! });
      await scene.settle();
      // The sweep indexes the opted-in secret's live token under its keyed fingerprint (no value).
      const sweepEvery = 15 * 60_000;
      const now = aws.clock.now().getTime();
      await scene.advance(
        Math.floor(now / sweepEvery) * sweepEvery + sweepEvery + 60_000 - now,
        'past the next sweep',
      );
      const key = await suite.secretsManager.send(
        new GetSecretValueCommand({ SecretId: suite.fingerprintKeySecretArn }),
      );
      scene.remember(key.SecretString!);
      tl.say(`${SECRET} holds a live token; the token index holds its keyed fingerprint`);

      const repo = mkdtempSync(join(tmpdir(), 'demo-leak-'));
      try {
        const git = (...args: string[]) => throwawayGit(repo, args);
        git('init', '-q', '-b', 'main');
        writeFileSync(join(repo, 'billing.env'), `REGION=eu-west-1\nBILLING_TOKEN=${token}\n`);
        git('add', '-A');
        git('commit', '-q', '-m', 'billing config');
        const leaked = git('rev-parse', 'HEAD');
        writeFileSync(join(repo, 'billing.env'), 'REGION=eu-west-1\n');
        git('commit', '-q', '-am', 'oops: token removed');
        tl.say(
          `a developer commits it in billing.env (${leaked.slice(0, 12)}), then deletes it in the next commit`,
        );

        const result = await cli(aws, ['scan', '--git', '--revoke', '--repo', repo]);
        for (const line of result.stdout.trimEnd().split('\n')) tl.say(`│ ${line}`);
        const json = await cli(aws, ['scan', '--git', '--repo', repo, '--json']);
        const [finding] = JSON.parse(json.stdout).findings as {
          commit: string;
          path: string;
          status: string;
          versionId: string;
        }[];
        tl.check(
          finding?.commit === leaked && finding.path === 'billing.env',
          'the scan found the deleted token at the commit that introduced it',
        );
        const now = await suite.store.describe(created.ARN!);
        const current = await suite.secretsManager.send(
          new GetSecretValueCommand({ SecretId: created.ARN! }),
        );
        scene.remember(current.SecretString ?? '');
        tl.check(
          !(now.versions[created.VersionId!] ?? []).includes('AWSCURRENT') &&
            current.SecretString !== token,
          `read back: the leaked token's version is no longer AWSCURRENT; ${SECRET} holds a fresh token`,
        );
        const records = await suite.audit.history(created.ARN!);
        const requested = records.find((r) => r.event === 'revoke.requested');
        tl.check(
          records.some((r) => r.event === 'revoke.completed' && r.outcome === 'succeeded') &&
            String(requested?.detail?.reason ?? '').includes('billing.env:2'),
          `revoke.completed is audited, its reason naming ${leaked.slice(0, 12)}:billing.env:2`,
        );
        tl.check(
          result.code === 0 && json.code === 0 && finding?.status === 'revoked',
          'scan exits 0 now: every token it found is proven revoked',
        );
      } finally {
        rmSync(repo, { recursive: true, force: true });
      }
    },
  );
}
