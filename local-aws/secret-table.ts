// The emulator's secrets, indexed so that one request costs what the request touches, not what
// the store holds: a lookup by name or ARN is a map read, purging secrets whose recovery window
// has passed looks only at the secrets scheduled for deletion, and a ListSecrets page starts from
// its cursor in the creation order instead of filtering and sorting every secret again. The
// 100,000-secret sweep bench then measures the sweep, not this table.

/** What the table needs of a secret; the emulator's record carries much more. */
export interface Listed {
  arn: string;
  name: string;
  created: Date;
  /** Creation order, for a stable order when the local clock stands still. */
  seq: number;
  deletedDate?: Date;
}

/** Where a ListSecrets page ended: the creation time and sequence of its last secret. */
export interface Cursor {
  created: number;
  seq: number;
}

const compare = (a: Cursor, b: Cursor) => a.created - b.created || a.seq - b.seq;
const keyOf = (secret: Listed): Cursor => ({ created: secret.created.getTime(), seq: secret.seq });

// A secret's ARN is `<prefix>-<six characters>`; AWS also finds it by the ARN without them.
const SUFFIX_LENGTH = 7;

export class SecretTable<S extends Listed> {
  private readonly byArn = new Map<string, S>();
  private readonly byName = new Map<string, S>();
  private readonly byPartialArn = new Map<string, S>();
  private readonly scheduled = new Set<S>();
  /** Every secret by (created, seq), rebuilt only after a secret was added or removed. */
  private ordered: S[] | undefined;

  add(secret: S): void {
    this.byArn.set(secret.arn, secret);
    this.byName.set(secret.name, secret);
    this.byPartialArn.set(secret.arn.slice(0, -SUFFIX_LENGTH), secret);
    if (secret.deletedDate) this.scheduled.add(secret);
    this.ordered = undefined;
  }

  delete(secret: S): void {
    if (this.byArn.get(secret.arn) !== secret) return;
    this.byArn.delete(secret.arn);
    this.byName.delete(secret.name);
    this.byPartialArn.delete(secret.arn.slice(0, -SUFFIX_LENGTH));
    this.scheduled.delete(secret);
    this.ordered = undefined;
  }

  /** Call after setting or clearing a secret's deletedDate. */
  deletionChanged(secret: S): void {
    if (secret.deletedDate) this.scheduled.add(secret);
    else this.scheduled.delete(secret);
  }

  /** Drops the secrets whose recovery window has passed by `now`. */
  purge(now: Date): void {
    for (const secret of this.scheduled) {
      if (secret.deletedDate && secret.deletedDate <= now) this.delete(secret);
    }
  }

  /** By ARN, name, or ARN without its six-character suffix. */
  find(secretId: string): S | undefined {
    return (
      this.byArn.get(secretId) ??
      this.byName.get(secretId) ??
      (secretId.startsWith('arn:') ? this.byPartialArn.get(secretId) : undefined)
    );
  }

  values(): IterableIterator<S> {
    return this.byArn.values();
  }

  /**
   * The secrets after `cursor` in creation order (`desc`: before it, newest first), lazily: a
   * page reads as many as it keeps, plus those its filters pass over.
   */
  *after(cursor: Cursor | undefined, desc: boolean): Generator<S> {
    const ordered = this.inOrder();
    if (!desc) {
      let i = cursor ? this.firstAbove(ordered, cursor) : 0;
      while (i < ordered.length) yield ordered[i++]!;
    } else {
      let i = cursor ? this.firstAbove(ordered, cursor) - 1 : ordered.length - 1;
      // The cursor's own secret (still there) sits at i: a descending page continues below it.
      if (cursor && i >= 0 && compare(keyOf(ordered[i]!), cursor) === 0) i--;
      while (i >= 0) yield ordered[i--]!;
    }
  }

  static cursorOf(secret: Listed): Cursor {
    return keyOf(secret);
  }

  private inOrder(): S[] {
    this.ordered ??= [...this.byArn.values()].sort((a, b) => compare(keyOf(a), keyOf(b)));
    return this.ordered;
  }

  /** The index of the first secret strictly after `cursor`. */
  private firstAbove(ordered: S[], cursor: Cursor): number {
    let low = 0;
    let high = ordered.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(keyOf(ordered[mid]!), cursor) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
