// How `token-rotation scan` says what it found: a table for a person, JSON for scripts, SARIF
// 2.1.0 for code-scanning upload. Built from findings only, which hold no token; each format
// names a token by its fingerprint.
import { type Finding, whereFound } from './findings.ts';
import type { RaisedRevoke } from './revoke.ts';

export interface ScanSummary {
  /** What was scanned: `files`, `stdin`, `git history`, `git index`. */
  source: string;
  /** Whether tokens were looked up in the index (false: `--offline`). */
  online: boolean;
  files: number;
  commits?: number;
  skippedBinary: number;
  skippedLarge: number;
}

export interface ScanReport {
  summary: ScanSummary;
  findings: Finding[];
  revokes?: RaisedRevoke[];
}

const counts = (findings: Finding[]) => ({
  findings: findings.length,
  live: findings.filter((f) => f.status === 'live').length,
  unknown: findings.filter((f) => f.status === 'unknown').length,
  revoked: findings.filter((f) => f.status === 'revoked').length,
});

export function toJson(report: ScanReport): string {
  return `${JSON.stringify({ ...report, counts: counts(report.findings) }, null, 2)}\n`;
}

type Table = (header: string[], rows: string[][], max?: number) => string;

/** The text report; commits abbreviated to 12 characters as git does, whole with `wide`. */
export function toText(report: ScanReport, table: Table, wide = false): string {
  const { summary, findings, revokes } = report;
  const history = findings.some((f) => f.commit);
  const lines: string[] = [];
  if (findings.length > 0) {
    const header = [
      ...(history ? ['COMMIT'] : []),
      'WHERE',
      'SECRET',
      'VERSION',
      'STATUS',
      'FINGERPRINT',
      'WHY',
    ];
    const rows = findings.map((f) => [
      ...(history ? [(wide ? f.commit : f.commit?.slice(0, 12)) ?? '-'] : []),
      whereFound({ path: f.path, line: f.line }),
      f.secretName ?? '-',
      f.versionId ?? '-',
      f.status === 'live'
        ? `LIVE ${f.stages.filter((s) => s.startsWith('AWS')).join(',')}`
        : f.status,
      f.fingerprint,
      f.why,
    ]);
    lines.push(table(header, rows, 160), '\n');
  }
  const c = counts(findings);
  const scanned = [
    `${summary.files} ${summary.source === 'git history' || summary.source === 'git index' ? 'blobs' : 'files'}`,
    ...(summary.commits !== undefined ? [`${summary.commits} commits`] : []),
    ...(summary.skippedBinary ? [`${summary.skippedBinary} binary skipped`] : []),
    ...(summary.skippedLarge ? [`${summary.skippedLarge} over 10 MB skipped`] : []),
  ].join(', ');
  lines.push(
    findings.length === 0
      ? `No token found (${summary.source}: ${scanned}; ${summary.online ? 'checksum and index' : 'offline: checksum only'}).\n`
      : `${c.findings} finding${c.findings === 1 ? '' : 's'}: ${c.live} live, ${c.unknown} unknown, ${c.revoked} revoked (${summary.source}: ${scanned}; ${summary.online ? 'checksum and index' : 'offline: checksum only'}).\n`,
  );
  if (revokes && revokes.length > 0) {
    lines.push('\nEmergency revokes raised (liveness above is as read back afterwards):\n');
    lines.push(
      table(
        ['SECRET', 'OUTCOME', 'REVOKE', 'REASON'],
        revokes.map((r) => [r.secretName, r.outcome, r.revokeId ?? '-', r.message ?? r.reason]),
        80,
      ),
    );
  }
  if (c.live + c.unknown > 0) {
    lines.push(
      c.live > 0
        ? `\nA live token is exposed: revoke it (token-rotation scan --revoke, or token-rotation revoke <secret> --reason ...), then remove it from ${history ? 'the history' : 'the file'}.\n`
        : `\nLiveness unknown: ${summary.online ? 'see WHY' : 'run without --offline to look the tokens up'}; treat them as live until proven revoked.\n`,
    );
  }
  return lines.join('');
}

const RULES = [
  {
    id: 'token-rotation/live-token',
    name: 'LiveToken',
    shortDescription: { text: 'A live API token is in the repository' },
    fullDescription: {
      text: 'A token that is AWSCURRENT, AWSPENDING or AWSPREVIOUS (in grace) in a managed secret was found. Revoke it, then remove it.',
    },
    defaultConfiguration: { level: 'error' },
    help: {
      text: 'Run `token-rotation scan --revoke` (or `token-rotation revoke <secret> --reason ...`), then remove the token from the file and its history.',
    },
  },
  {
    id: 'token-rotation/unverified-token',
    name: 'UnverifiedToken',
    shortDescription: { text: 'An API token whose liveness could not be checked' },
    fullDescription: {
      text: 'A token-rotation token (valid checksum) or an indexed token whose secret could not be read back. Treat it as live until proven revoked.',
    },
    defaultConfiguration: { level: 'error' },
    help: { text: 'Run `token-rotation scan` with AWS access to look it up, or revoke it.' },
  },
  {
    id: 'token-rotation/revoked-token',
    name: 'RevokedToken',
    shortDescription: { text: 'A revoked API token is in the repository' },
    fullDescription: { text: 'The token was revoked; it no longer works. Remove it anyway.' },
    defaultConfiguration: { level: 'note' },
    help: { text: 'Remove the token from the file.' },
  },
] as const;

const RULE_OF = { live: 0, unknown: 1, revoked: 2 } as const;

/** SARIF 2.1.0, as GitHub code scanning accepts it (`github/codeql-action/upload-sarif`). */
export function toSarif(report: ScanReport, version: string): string {
  const results = report.findings.map((f) => {
    const rule = RULES[RULE_OF[f.status]];
    const secret = f.secretName ? ` of ${f.secretName} (version ${f.versionId})` : '';
    return {
      ruleId: rule.id,
      ruleIndex: RULE_OF[f.status],
      level: rule.defaultConfiguration.level,
      message: {
        text: `${f.status === 'live' ? 'Live' : f.status === 'revoked' ? 'Revoked' : 'Unverified'} token ${f.fingerprint}${secret}${f.commit ? `, introduced in commit ${f.commit}` : ''}: ${f.why}`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: sarifUri(f.path) },
            region: { startLine: f.line },
          },
        },
      ],
      partialFingerprints: { 'tokenFingerprint/v1': f.fingerprint },
      properties: {
        status: f.status,
        recognisedBy: f.recognisedBy,
        ...(f.commit && { commit: f.commit }),
        ...(f.secretArn && { secretArn: f.secretArn, versionId: f.versionId }),
      },
    };
  });
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'token-rotation scan',
            version,
            rules: RULES,
          },
        },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** A relative path as a SARIF URI reference: forward slashes, percent-encoded, no leading "./". */
export function sarifUri(path: string): string {
  return path
    .replace(/\\/g, '/')
    .replace(/^\.\//, '')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
