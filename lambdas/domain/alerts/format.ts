// Turns an Alert into the e-mail a person reads on a phone: a subject SNS accepts, a plain-text
// body that says what, when, which secret, why and what next, and attributes to filter on.
//
// Every string in an Alert is treated as untrusted: secret names and ARNs come from events and
// tags, reasons and summaries can quote user input (a revoke reason, a bad tag value). So:
//   - the subject keeps only the characters Secrets Manager allows in a secret name (letters,
//     digits, / _ + = . @ -) after folding accents; anything else becomes `?`. It is ASCII,
//     one line, and at most 99 characters, the name shortened in the middle;
//   - in the body, each value is put on one line: control, format and line/paragraph separator
//     characters (CR, LF, NEL, U+2028, bidi overrides, zero-width) become spaces, so a value can
//     never start a line of its own and pass for one of our labels; long values are cut;
//   - free text (summary, reason, next steps, principal) also goes through `scrub`, which
//     removes anything shaped like a credential: an alert never carries a secret value;
//   - values placed in a shell command or a URL are checked against the shape they must have
//     (an ARN, a table name) and quoted or encoded, or left out, never pasted raw;
//   - attributes are exactly severity, event and secret, each a one-line value.

// Only the key shape (pure constants), so the printed query matches the table exactly.
import { AUDIT_TABLE, secretPk } from '#adapters/audit-table';
import { scrub } from '../errors.ts';
import type { Alert } from '../ports.ts';

export interface AlertContext {
  at: Date;
  region: string;
  stackName: string;
  auditTableName: string;
}

export interface FormattedAlert {
  subject: string;
  message: string;
  attributes: Record<'severity' | 'event' | 'secret', string>;
}

/** SNS rejects subjects of 100 characters or more. */
export const MAX_SUBJECT_LENGTH = 99;

export function formatAlert(alert: Alert, ctx: AlertContext): FormattedAlert {
  const severity = token(alert.severity).toUpperCase() || 'ALERT';
  const event = token(alert.event) || 'alert';
  const name = oneLine(alert.secretName, 300) || '(unnamed secret)';

  return {
    subject: subjectLine(severity, event, alert.secretName),
    message: body(alert, ctx, severity, event, name),
    attributes: { severity: severity.toLowerCase(), event, secret: name },
  };
}

function subjectLine(severity: string, event: string, secretName: string): string {
  const prefix = `[${severity}] ${event}: `;
  const name = subjectSafe(secretName) || '(unnamed)';
  const room = MAX_SUBJECT_LENGTH - prefix.length;
  return prefix + (name.length <= room ? name : shortenMiddle(name, room));
}

/** Keeps the start (often the environment, `prod/`) and more of the end (the secret itself). */
function shortenMiddle(text: string, room: number): string {
  const marker = '...';
  if (room <= marker.length) return text.slice(0, Math.max(0, room));
  const keep = room - marker.length;
  const head = Math.floor(keep * 0.4);
  return `${text.slice(0, head)}${marker}${text.slice(text.length - (keep - head))}`;
}

function subjectSafe(text: string): string {
  return String(text ?? '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z0-9/_+=.@-]/g, '?');
}

/** Identifiers from our vocabulary; anything else is reduced to the characters they use. */
function token(text: string): string {
  return String(text ?? '')
    .replace(/[^a-z0-9.-]/gi, '')
    .slice(0, 40);
}

// C0/C1 controls (CR, LF, TAB, NEL, ...), format characters (bidi overrides, zero-width), and the
// Unicode line and paragraph separators: anything that could start a line or hide text.
const LINE_BREAKERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu;

/** One line, at most `max` characters. */
function oneLine(text: string | undefined, max = 500): string {
  const line = String(text ?? '')
    .replace(LINE_BREAKERS, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** Free text: one line and no secret material. */
const freeText = (text: string | undefined, max = 500) => oneLine(scrub(oneLine(text, 2000)), max);

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

function consoleHost(region: string): string {
  if (region.startsWith('cn-')) return `${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `${region}.console.amazonaws-us-gov.com`;
  return `${region}.console.aws.amazon.com`;
}

function body(
  alert: Alert,
  ctx: AlertContext,
  severity: string,
  event: string,
  name: string,
): string {
  const arn = oneLine(alert.secretArn, 2048);
  const arnOk = SECRET_ARN.test(arn);
  const region = REGION.test(ctx.region) ? ctx.region : undefined;
  const table = TABLE_NAME.test(ctx.auditTableName) ? ctx.auditTableName : undefined;
  const stack = STACK_NAME.test(ctx.stackName) ? ctx.stackName : undefined;
  // A principal is an identity ARN, not free text: scrub would mistake SSO role names for keys.
  const trigger = alert.trigger
    ? oneLine(
        `${alert.trigger.source}${alert.trigger.principal ? ` by ${alert.trigger.principal}` : ''}`,
        300,
      )
    : '';

  const lines = [
    `${severity}: ${event} on ${name}`,
    '',
    `What happened: ${freeText(alert.summary) || event}`,
    `When: ${utc(ctx.at)}`,
    `Secret: ${name}`,
    `ARN: ${arn || '(unknown)'}`,
    `Version: ${oneLine(alert.versionId, 100) || '(none)'}`,
    ...(trigger ? [`Triggered by: ${trigger}`] : []),
    `Why: ${freeText(alert.reason, 1000) || '(no reason given)'}`,
    '',
    'What to do next:',
    ...(alert.nextSteps.length
      ? alert.nextSteps.slice(0, 10).map((step, i) => `  ${i + 1}. ${freeText(step, 300)}`)
      : ['  1. Look at the secret and its audit history below.']),
    '',
  ];

  if (region) {
    const host = consoleHost(region);
    const q = (value: string) => encodeURIComponent(value);
    lines.push('Links:');
    if (oneLine(alert.secretName)) {
      lines.push(
        `  Secret: https://${host}/secretsmanager/secret?name=${q(name)}&region=${region}`,
      );
    }
    if (table) {
      lines.push(
        `  Audit table: https://${host}/dynamodbv2/home?region=${region}#item-explorer?table=${q(table)}`,
      );
    }
    if (stack) {
      lines.push(
        `  Emergency revoke runbook: https://${host}/systems-manager/automation/execute/${q(`${stack}-EmergencyRevoke`)}?region=${region}`,
      );
    }
    lines.push('');
  }

  if (arnOk && table && region) {
    // The ARN and table name were checked against their shapes above, so single quotes are safe.
    const values = JSON.stringify({ ':pk': { S: secretPk(arn) } });
    lines.push(
      'Audit history of this secret, newest first:',
      `  aws dynamodb query --region ${region} --table-name ${table} --key-condition-expression '${AUDIT_TABLE.partitionKey} = :pk' --expression-attribute-values '${values}' --no-scan-index-forward --max-items 20`,
      '',
    );
  }

  lines.push(`-- token-rotation${stack ? `, stack ${stack}` : ''}${region ? `, ${region}` : ''}`);
  return lines.join('\n');
}

function utc(at: Date): string {
  const iso = Number.isNaN(at.getTime()) ? '' : at.toISOString();
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '(unknown)';
}
