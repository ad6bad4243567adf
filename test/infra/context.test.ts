// A mistyped or missing setting fails `cdk synth` before anything is built, with one line that
// names the fix: an unknown key names the closest known one, a missing alertEmails asks for
// addresses or `none`, and no stack trace buries the message.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { CONTEXT_ENV, CURRENTLY_RECOMMENDED_FLAGS, OUTDIR_ENV } from 'aws-cdk-lib/cx-api';
import { describe, expect, it } from 'vitest';
import { buildApp, checkContextKeys, readContext, SettingsError } from '../../infra/context.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs infra/app.ts as `cdk synth -c ...` does: context in CDK_CONTEXT_JSON, an output dir. */
function runApp(context: Record<string, unknown>) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'token-rotation-app-'));
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: projectRoot,
      env: { ...process.env, [CONTEXT_ENV]: JSON.stringify(context), [OUTDIR_ENV]: outdir },
      encoding: 'utf8',
    });
    return { status: run.status, stderr: run.stderr, stdout: run.stdout };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('context keys', () => {
  it('fails on -c alertEmail=..., naming alertEmails', () => {
    expect(() => checkContextKeys(['alertEmail'])).toThrow(
      /unknown context key "alertEmail": did you mean "alertEmails"\?/,
    );
  });

  it.each([
    ['sweepintervall', 'sweepInterval'],
    ['logLevl', 'logLevel'],
    ['stackname', 'stackName'],
    ['issuerFunction', 'issuerFunctions'],
  ])('names the closest known key for %s', (typed, known) => {
    expect(() => checkContextKeys([typed])).toThrow(`did you mean "${known}"?`);
  });

  it("leaves CDK's own keys alone: feature flags, aws:cdk: settings and lookups", () => {
    expect(() =>
      checkContextKeys([
        '@aws-cdk/core:checkSecretUsage',
        'aws:cdk:enable-path-metadata',
        'acknowledged-issue-numbers',
        'availability-zones:account=111122223333:region=eu-west-1',
        'alertEmails',
      ]),
    ).not.toThrow();
  });

  it('fails building the app on an unknown key before any function is bundled', () => {
    const app = new App({ context: { alertEmails: 'none', alertEmail: 'ops@example.com' } });
    expect(() => buildApp(app)).toThrow(SettingsError);
    expect(app.node.children).toHaveLength(0);
  });
});

describe('alertEmails', () => {
  const read = (context: Record<string, unknown>) => readContext((key) => context[key]);

  it('fails when not set, saying how to give addresses or none', () => {
    expect(() => read({})).toThrow(
      /context alertEmails is not set: .*-c alertEmails=ops@example.com.* or -c alertEmails=none/,
    );
  });

  it('takes none, in any case, as no e-mail subscription on purpose', () => {
    expect(read({ alertEmails: 'none' }).alertEmails).toEqual([]);
    expect(read({ alertEmails: 'NONE' }).alertEmails).toEqual([]);
  });

  it('fails when none is listed with addresses', () => {
    expect(() => read({ alertEmails: 'none,ops@example.com' })).toThrow(
      /"none" cannot be listed with addresses/,
    );
  });
});

describe('the CDK app on a mistake', () => {
  it('prints one line naming alertEmails for -c alertEmail=..., no stack trace, and exits 1', () => {
    // Act
    const run = runApp({ alertEmail: 'ops@example.com' });

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^token-rotation: unknown context key "alertEmail": did you mean "alertEmails"\?/,
      ),
    ]);
  });

  it('prints one line for a prop the construct refuses, and exits 1', () => {
    const run = runApp({ alertEmails: 'ops-team' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'token-rotation: alertEmails: "ops-team" is not an e-mail address (expected one address like ops@example.com per entry)',
    ]);
  });
});

describe('feature flags', () => {
  it('configures every flag the CDK library recommends in cdk.json, so synth prints no feature-flag notice', () => {
    // Prepare
    const context = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')).context;

    // Assess: an upgrade of aws-cdk-lib that adds a flag fails here until cdk.json decides it
    const unconfigured = Object.keys(CURRENTLY_RECOMMENDED_FLAGS).filter(
      (flag) => !(flag in context),
    );
    expect(unconfigured).toEqual([]);
  });
});
