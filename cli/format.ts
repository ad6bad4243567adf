// How the CLI shows things to a person: aligned tables, times in UTC, ages in days and hours,
// CSV an auditor's spreadsheet opens as it was meant, and nothing a terminal would obey.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** An age or a wait, to the two largest units: `6d 23h`, `5h 12m`, `42m`, `<1m`. */
export function humanDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return '<1m';
  const days = Math.floor(abs / DAY);
  const hours = Math.floor((abs % DAY) / HOUR);
  const minutes = Math.floor((abs % HOUR) / MINUTE);
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  return `${minutes}m`;
}

/**
 * `2026-01-05 09:00:12Z`: UTC, to the second, as the alert e-mails print it. Seconds matter: a
 * revoke and the rotation it raced are often minutes apart at most.
 */
export function shortTime(date: Date | string): string {
  const iso = typeof date === 'string' ? date : date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** A table with a header row, columns padded to their widest cell; long cells cut at `max`. */
export function renderTable(header: string[], rows: string[][], max = 72): string {
  const cut = (cell: string) => {
    // Escaped before measuring, so columns stay aligned.
    const flat = terminalSafe(cell.replace(/\s+/g, ' '));
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  };
  const all = [header, ...rows].map((row) => row.map(cut));
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * One CSV field (RFC 4180). A field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
 * tab, CR first) is prefixed with `'`: reasons and secret names are text people typed.
 */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvRow = (fields: unknown[]) => `${fields.map(csvField).join(',')}\r\n`;

/** `key=value` pairs of a flat record, for one table cell. */
export const pairs = (record: Record<string, unknown> | undefined) =>
  Object.entries(record ?? {})
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');

// What a terminal acts on rather than shows: C0 controls but line feed and tab (ESC starts CSI
// and OSC sequences, CR overwrites a line, BEL rings), DEL, C1 controls (U+009B is a one-byte
// CSI), the Unicode line separators and the bidirectional overrides that reorder what is read.
// Audit fields (reasons, principals, issuer errors) are text an attacker may have chosen.
// A CR that ends a CSV line (CRLF) moves nothing a person reads, so it stays.
const TERMINAL_CONTROL =
  /\r(?!\n)|(?![\n\t\r])\p{Cc}|[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `text` with every terminal control written as a `\uXXXX` escape, visible and inert. The same
 * escape JSON uses, so a JSON document stays the same JSON (these characters only occur inside
 * its strings, where `\uXXXX` means the character itself).
 */
export function terminalSafe(text: string): string {
  return text.replace(
    TERMINAL_CONTROL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
