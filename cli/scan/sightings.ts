// Where each token was seen: the scanner's memory of one run. Tokens are held here as keys only
// to fingerprint and look them up; what leaves this module for output is the place, never the
// token (see report.ts).
import { candidateStrings, selfIssuedTokens } from './shape.ts';

/** Where a token was seen: a file (or stdin, or a staged file) and line; in history, a commit. */
export interface Place {
  path: string;
  line: number;
  /** The commit that first introduced it (`--git`). */
  commit?: string;
}

export interface Seen {
  /** A `random` token with a valid checksum: recognised with no lookup. */
  selfIssued: boolean;
  places: Place[];
}

/** Places kept per token: enough to find them all with grep, bounded for a token pasted everywhere. */
export const MAX_PLACES_PER_TOKEN = 50;

export class Sightings {
  private readonly seen = new Map<string, Seen>();
  /** Texts scanned (files, blobs, stdin). */
  scanned = 0;
  /** Bytes scanned. */
  bytes = 0;

  constructor(
    /** Collect every candidate of token shape for the index lookup (online), not only checksummed tokens. */
    private readonly lookup: boolean,
    /** Keep only the first place of each token (history: the commit that introduced it). */
    private readonly firstPlaceOnly = false,
  ) {}

  /** Scans one text; `place` says where a line of it is. */
  scan(text: string, place: (line: number) => Place): void {
    this.scanned++;
    this.bytes += text.length;
    for (const hit of selfIssuedTokens(text)) this.add(hit.value, true, place(hit.line));
    if (!this.lookup) return;
    for (const hit of candidateStrings(text)) this.add(hit.value, false, place(hit.line));
  }

  private add(token: string, selfIssued: boolean, at: Place): void {
    const known = this.seen.get(token);
    if (!known) {
      this.seen.set(token, { selfIssued, places: [at] });
      return;
    }
    known.selfIssued ||= selfIssued;
    if (this.firstPlaceOnly || known.places.length >= MAX_PLACES_PER_TOKEN) return;
    if (
      known.places.some((p) => p.path === at.path && p.line === at.line && p.commit === at.commit)
    )
      return;
    known.places.push(at);
  }

  /** Every distinct string seen, with where (in the order first seen). */
  entries(): [string, Seen][] {
    return [...this.seen];
  }
}
