// `evidence --html <file>`: one self-contained page an auditor opens in a browser. No script, no
// network, no external asset (a Content-Security-Policy forbids them all but inline styles): per
// secret, a timeline of its token versions drawn against its lifespan and grace, and its
// compliance figures; every breach; every emergency revoke with who, why and what; the chain and
// checkpoint verification. Every text from the audit trail is escaped: it is attacker-influenced.
import type { AuditRecord, SecretDescription } from '#domain/ports';
import type { CheckpointRow, EventEvidence, Report, SecretEvidence } from './commands/evidence.ts';
import {
  duration,
  type SecretTimeline,
  SWEEP_SLACK_MS,
  secretTimeline,
  type VersionSpan,
} from './evidence-timeline.ts';
import { terminalSafe } from './format.ts';
import { triggerOf } from './records.ts';

/** Text made inert in HTML: markup characters as entities, controls as visible escapes. */
export function esc(value: unknown): string {
  return terminalSafe(String(value ?? '')).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1b;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
td,th{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f2f2f2}.ok{color:#126b28;font-weight:600}.bad{color:#a4161a;font-weight:600}
.legend span{display:inline-block;margin-right:1rem}.sw{width:.9rem;height:.9rem;display:inline-block;vertical-align:middle;margin-right:.3rem}
svg{display:block;margin:.4rem 0 1rem;background:#fafafa;border:1px solid #ddd}
`;

const COLOR: Record<string, string> = { live: '#2e8540', grace: '#e0a800', revoked: '#a4161a' };
const WIDTH = 1000;
const LABEL = 210;
const ROW = 22;

/** The page, from the evidence report and the opted-in secrets (their tags and labels). */
export function renderHtml(report: Report, optedIn: Map<string, SecretDescription>): string {
  const { metadata } = report;
  const range = { from: new Date(metadata.rangeFrom!), to: new Date(metadata.rangeTo!) };
  const timelines = report.secrets.map((s) => ({
    secret: s,
    // Only records verified in their chain are evidence; a broken chain's secret is not judged.
    timeline: secretTimeline(
      report.events.filter((e) => e.secretArn === s.secretArn && e.chainStatus === 'verified'),
      optedIn.get(s.secretArn),
      range,
      s.chain.status === 'broken' || s.chain.status === 'missing',
    ),
  }));
  const breaches = timelines.flatMap(({ secret, timeline }) =>
    timeline.compliance.breaches.map((b) => `${secret.secretName}: ${b}`),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>${esc(metadata.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(metadata.title)}</h1>
${metadataTable(metadata)}
${verificationSection(report)}
<h2 id="compliance">Compliance</h2>
${breachList(breaches)}
${complianceTable(timelines)}
<h2 id="revokes">Emergency revokes</h2>
${revokesTable(report.events)}
<h2 id="timelines">Token versions</h2>
<p class="legend"><span><i class="sw" style="background:${COLOR.live}"></i>live</span><span><i class="sw" style="background:${COLOR.grace}"></i>in grace (replaced, still working)</span><span><i class="sw" style="background:${COLOR.revoked}"></i>revoked</span><span>dashed: lifespan end (live) and grace end (in grace)</span></p>
${timelines.map(({ secret, timeline }) => secretSection(secret, timeline, range)).join('\n')}
</body></html>
`;
}

function metadataTable(metadata: Record<string, string>): string {
  const rows = Object.entries(metadata)
    .filter(([key]) => key !== 'title')
    .map(([key, value]) => `<tr><th>${esc(key)}</th><td>${esc(value)}</td></tr>`);
  return `<table id="metadata">${rows.join('')}</table>`;
}

function verificationSection(report: Report): string {
  const { summary, broken, checkpoints, checkpointFindings } = report;
  const chainsOk = broken.length === 0;
  const cpOk = checkpointFindings.length === 0;
  const chainLine = chainsOk
    ? `<p id="chains" class="ok">All ${summary.chainsVerified} audit chains verified in full; none missing.</p>`
    : `<p id="chains" class="bad">${broken.length} audit chain${broken.length === 1 ? '' : 's'} broken or missing: ${broken.map((s) => `${esc(s.secretName)} (${esc(s.chain.status)})`).join(', ')}.</p>`;
  const cpLine =
    checkpoints.length === 0
      ? '<p id="checkpoints">No checkpoints were read (no checkpoint bucket).</p>'
      : cpOk
        ? `<p id="checkpoints" class="ok">${checkpoints.length} checkpoints read; every chain reaches its last checkpoint, and the checkpoints chain without a gap.</p>`
        : `<p id="checkpoints" class="bad">${checkpointFindings.length} checkpoint problem${checkpointFindings.length === 1 ? '' : 's'}: ${checkpointFindings.map((f) => `${esc(f.kind)}: ${esc(f.message)}`).join('; ')}</p>`;
  return `<h2 id="verification">Verification</h2>${chainLine}${cpLine}${checkpointTable(checkpoints)}`;
}

function checkpointTable(checkpoints: CheckpointRow[]): string {
  if (checkpoints.length === 0) return '';
  const last = checkpoints.slice(-10);
  const rows = last.map(
    (c) =>
      `<tr><td>${esc(c.seq)}</td><td>${esc(c.at)}</td><td>${esc(c.chains)}</td><td>s3://${esc(c.bucket)}/${esc(c.key)}</td><td>${esc(c.versionId)}</td><td>${esc(c.lockMode)} until ${esc(c.retainUntil)}</td></tr>`,
  );
  return `<table><tr><th>seq</th><th>at</th><th>chains</th><th>object</th><th>version ID</th><th>lock</th></tr>${rows.join('')}</table><p>Latest ${last.length} of ${checkpoints.length} checkpoints; the CSV and JSON exports list all.</p>`;
}

function breachList(breaches: string[]): string {
  if (breaches.length === 0)
    return `<p id="breaches" class="ok">No breach among the secrets judged: every token lived within its lifespan, every replaced token stopped within its grace (allowing ${duration(SWEEP_SLACK_MS)} for the sweep's interval).</p>`;
  return `<div id="breaches"><p class="bad">${breaches.length} breach${breaches.length === 1 ? '' : 'es'}:</p><ul>${breaches.map((b) => `<li>${esc(b)}</li>`).join('')}</ul></div>`;
}

function complianceTable(rows: { secret: SecretEvidence; timeline: SecretTimeline }[]): string {
  const body = rows.map(({ secret, timeline: { compliance: c } }) => {
    const age =
      c.currentAgeMs === undefined
        ? 'n/a'
        : `${c.currentAgeAtLeast ? '≥ ' : ''}${duration(c.currentAgeMs)}`;
    const grace = c.longestGrace
      ? `${duration(c.longestGrace.ms)}${c.longestGrace.ongoing ? ' (still in grace)' : ''}`
      : 'n/a';
    const mark = c.breaches.length
      ? '<span class="bad">breach</span>'
      : c.notJudged
        ? `not judged: ${esc(c.notJudged)}`
        : '<span class="ok">ok</span>';
    return `<tr data-secret="${esc(secret.secretName)}"><td>${esc(secret.secretName)}</td><td>${age}</td><td>${c.lifespanMs === undefined ? 'n/a' : duration(c.lifespanMs)}</td><td>${grace}</td><td>${c.graceMs === undefined ? 'n/a' : duration(c.graceMs)}</td><td>${mark}</td></tr>`;
  });
  return `<table id="compliance-table"><tr><th>secret</th><th>live token age</th><th>lifespan</th><th>longest previous-token life</th><th>grace</th><th>result</th></tr>${body.join('')}</table>`;
}

function revokesTable(events: EventEvidence[]): string {
  const revokes = events.filter(
    (e) => e.event === 'revoke.completed' || e.event === 'revoke.failed',
  );
  if (revokes.length === 0) return '<p id="revoke-list">No emergency revoke in the range.</p>';
  const rows = revokes.map(
    (e) =>
      `<tr><td>${esc(e.at)}</td><td>${esc(e.secretName)}</td><td>${esc(e.event === 'revoke.completed' ? 'completed' : 'FAILED')}</td><td>${esc(triggerOf(e))}</td><td>${esc(e.detail?.reason ?? '(none given)')}</td><td>${esc(whatRevoked(e))}</td></tr>`,
  );
  return `<table id="revoke-list"><tr><th>at</th><th>secret</th><th>outcome</th><th>who</th><th>why</th><th>what was revoked</th></tr>${rows.join('')}</table>`;
}

function whatRevoked(e: AuditRecord): string {
  const versions = Object.entries(e.versions ?? {}).filter(
    ([role]) => role !== 'reissued' && role !== 'quarantine',
  );
  const named = versions.map(
    ([role, id]) => `${role} ${id}${e.tokens?.[role] ? ` (${e.tokens[role]})` : ''}`,
  );
  const fresh =
    e.versions?.reissued && e.event === 'revoke.completed'
      ? `; reissued as ${e.versions.reissued}`
      : '';
  const quarantined = e.versions?.quarantine ? '; quarantined' : '';
  return `${named.join(', ') || 'nothing'}${fresh}${quarantined}${e.error ? `; ${e.error}` : ''}`;
}

function secretSection(
  secret: SecretEvidence,
  { spans, compliance }: SecretTimeline,
  range: { from: Date; to: Date },
): string {
  const chain =
    secret.chain.status === 'verified'
      ? `<span class="ok">chain verified (${secret.chain.records} records)</span>`
      : `<span class="${secret.chain.status === 'no records' ? '' : 'bad'}">chain ${esc(secret.chain.status)}</span>`;
  return `<section class="secret" data-secret="${esc(secret.secretName)}">
<h3>${esc(secret.secretName)}</h3>
<p>${esc(secret.kind || 'not opted in')}${secret.lifespan ? `, lifespan ${esc(secret.lifespan)}` : ''}; ${chain}</p>
${scopesLine(secret)}${timelineSvg(spans, compliance, range)}
</section>`;
}

/** Declared scopes and the newest actual ones read in the range, drift marked. */
function scopesLine(secret: SecretEvidence): string {
  const scopes = secret.scopes;
  if (!scopes) return '';
  const r = scopes.reading;
  const declared = `declared ${esc(scopes.declared.join(' '))}`;
  if (!r) return `<p class="scopes">Scopes: ${declared}; actual not read in the range.</p>\n`;
  const actual = `actual ${esc(r.actual)} (read ${esc(r.at)} by ${esc(r.by)})`;
  const drift = r.drift
    ? `; <span class="bad">${r.refused ? 'new token refused' : 'live token broader'}: extra ${esc(r.extra ?? '')}</span>`
    : '; <span class="ok">within the declared scopes</span>';
  return `<p class="scopes">Scopes: ${declared}; ${actual}${drift}.</p>\n`;
}

function timelineSvg(
  spans: VersionSpan[],
  compliance: SecretTimeline['compliance'],
  range: { from: Date; to: Date },
): string {
  if (spans.length === 0) return '<p>No token version in the range.</p>';
  const t0 = range.from.getTime();
  const t1 = Math.max(range.to.getTime(), t0 + 1);
  const x = (t: number) =>
    LABEL + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * (WIDTH - LABEL - 10);
  const height = spans.length * ROW + 26;
  const rows = spans.map((s, i) => {
    const y = 8 + i * ROW;
    const end = s.replacedAt ?? s.revokedAt ?? t1;
    const parts = [bar('live', x(s.from), x(end), y)];
    if (s.replacedAt !== undefined)
      parts.push(bar('grace', x(s.replacedAt), x(s.revokedAt ?? t1), y));
    if (s.revokedAt !== undefined)
      parts.push(
        `<line x1="${x(s.revokedAt)}" x2="${x(s.revokedAt)}" y1="${y - 2}" y2="${y + 16}" stroke="${COLOR.revoked}" stroke-width="3" data-part="revoked"/>`,
      );
    const limit =
      s.replacedAt === undefined
        ? compliance.lifespanMs !== undefined && s.from + compliance.lifespanMs
        : compliance.graceMs !== undefined &&
          Math.max(s.replacedAt + compliance.graceMs, s.extendedUntil ?? 0);
    if (typeof limit === 'number' && limit <= t1)
      parts.push(
        `<line x1="${x(limit)}" x2="${x(limit)}" y1="${y - 3}" y2="${y + 17}" stroke="#333" stroke-dasharray="3 2" data-part="limit"/>`,
      );
    const label = `${s.versionId.slice(0, 8)}… ${s.state}${s.extendedUntil ? ' (grace extended)' : ''}`;
    return `<g data-version="${esc(s.versionId)}" data-state="${esc(s.state)}"><title>${esc(`${s.versionId}: ${s.origin}, ${s.state}`)}</title><text x="4" y="${y + 12}" font-size="12">${esc(label)}</text>${parts.join('')}</g>`;
  });
  const axis = `<text x="${LABEL}" y="${height - 6}" font-size="11">${esc(range.from.toISOString().slice(0, 16))}Z</text><text x="${WIDTH - 10}" y="${height - 6}" font-size="11" text-anchor="end">${esc(range.to.toISOString().slice(0, 16))}Z</text>`;
  return `<svg width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="token versions over time">${rows.join('')}${axis}</svg>`;
}

function bar(part: 'live' | 'grace', x1: number, x2: number, y: number): string {
  const w = Math.max(x2 - x1, 2);
  return `<rect x="${x1.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="14" fill="${COLOR[part]}" data-part="${part}"/>`;
}
