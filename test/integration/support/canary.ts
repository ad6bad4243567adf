// Canary checks shared by the tests that prove no token value leaves the suite: every form in
// which a token could hide in text (SPEC "Truthful outcomes": raw, percent-encoded, base64,
// base64url, JSON-escaped, hex, and prefixes of 8 or more characters).
import { expect, vi } from 'vitest';

/** A token as an error may carry it. */
export function formsOf(token: string): Record<string, string> {
  const bytes = Buffer.from(token, 'utf8');
  return {
    raw: token,
    'percent-encoded': encodeURIComponent(token),
    'form-encoded': new URLSearchParams({ k: token }).toString().slice(2),
    base64: bytes.toString('base64'),
    base64url: bytes.toString('base64url'),
    'JSON-escaped': JSON.stringify(token).slice(1, -1),
    hex: bytes.toString('hex'),
    'HEX (upper case)': bytes.toString('hex').toUpperCase(),
    'first 8 characters': token.slice(0, 8),
    'first 8 characters, percent-encoded': encodeURIComponent(token.slice(0, 8)),
  };
}

export function expectNoForm(text: string, tokens: string[]) {
  for (const token of tokens) {
    for (const [form, shown] of Object.entries(formsOf(token))) {
      expect(text.includes(shown), `the ${form} form of a token appears`).toBe(false);
    }
  }
}

/**
 * Keeps every JSON log line the handlers write to `streams` in `lines`, for a canary check, and
 * passes anything else (the test runner's own output) on. Undone by `vi.restoreAllMocks()`.
 */
export function captureLogLines(
  lines: string[],
  streams: NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation((chunk, ...rest) => {
      const text = String(chunk);
      if (!text.startsWith('{')) return write(chunk, ...(rest as []));
      lines.push(text);
      return true;
    });
  }
}
