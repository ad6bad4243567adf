// Every way a printed text could give a token away: the token itself, its base64, base64url and
// hex (either case), and any 8 consecutive characters of it.
export function leakedForms(token: string, printed: string): string[] {
  const bytes = Buffer.from(token, 'utf8');
  const whole = [
    token,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    encodeURIComponent(token),
  ];
  const pieces: string[] = [];
  for (let i = 0; i + 8 <= token.length; i++) pieces.push(token.slice(i, i + 8));
  // Encoded forms of a piece shift with alignment; an encoded stretch of 12+ characters of the
  // whole token's encodings is caught by checking 16-character windows of them.
  const encodedPieces = whole
    .slice(1)
    .flatMap((form) =>
      Array.from({ length: Math.max(0, form.length - 15) }, (_, i) => form.slice(i, i + 16)),
    );
  return [...new Set([...whole, ...pieces, ...encodedPieces])].filter((form) =>
    printed.includes(form),
  );
}
