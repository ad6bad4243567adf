// The emulator's secrets, indexed so that one request costs what the request touches, not what
// the store holds: a lookup by name or ARN is a map read, purging secrets whose recovery window
// has passed looks only at the secrets scheduled for deletion, and a ListSecrets page starts from
// its cursor in the creation order instead of filtering and sorting every secret again. The
// creation order is kept as secrets come and go (a new secret is almost always the newest: an
// append), and the order of the secrets a filter selects is kept per filter until a change a
// filter can see (a secret added, removed, tagged or scheduled for deletion), so the pages of one
// listing cost what they return. The 100,000-secret sweep bench then measures the sweep, not
// this table.

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
  /** Every secret by (created, seq), built on first use and then kept in order. */
  private ordered: S[] | undefined;
  /** Bumped by every change a ListSecrets filter can see: older filtered orders are stale. */
  private version = 0;
  /** The secrets each filter (by its key) selected, in creation order, as of `version`. */
  private readonly filtered = new Map<string, { version: number; list: S[] }>();

  add(secret: S): void {
    const replaced = this.byArn.get(secret.arn);
    if (replaced) this.delete(replaced);
    this.byArn.set(secret.arn, secret);
    this.byName.set(secret.name, secret);
    this.byPartialArn.set(secret.arn.slice(0, -SUFFIX_LENGTH), secret);
    if (secret.deletedDate) this.scheduled.add(secret);
    if (this.ordered) this.ordered.splice(this.firstAbove(this.ordered, keyOf(secret)), 0, secret);
    this.version++;
  }

  delete(secret: S): void {
    if (this.byArn.get(secret.arn) !== secret) return;
    this.byArn.delete(secret.arn);
    this.byName.delete(secret.name);
    this.byPartialArn.delete(secret.arn.slice(0, -SUFFIX_LENGTH));
    this.scheduled.delete(secret);
    if (this.ordered) {
      const at = this.firstAbove(this.ordered, keyOf(secret)) - 1;
      if (this.ordered[at] === secret) this.ordered.splice(at, 1);
      else this.ordered = undefined; // (created, seq) not unique: rebuild on next use
    }
    this.version++;
  }

  /** Call after setting or clearing a secret's deletedDate. */
  deletionChanged(secret: S): void {
    if (secret.deletedDate) this.scheduled.add(secret);
    else this.scheduled.delete(secret);
    this.version++;
  }

  /** Call after changing what a ListSecrets filter reads of a secret (its tags). */
  changed(): void {
    this.version++;
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
   * The secrets after `cursor` in creation order (`desc`: before it, newest first), lazily; with
   * `filter`, only those it selects (`key` names the filter: same key, same selection), so a page
   * reads as many as it keeps. The selection is made once per filter and change, not per page.
   */
  *after(
    cursor: Cursor | undefined,
    desc: boolean,
    filter?: { key: string; selects: (secret: S) => boolean },
  ): Generator<S> {
    const ordered = filter ? this.selection(filter.key, filter.selects) : this.inOrder();
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

  private selection(key: string, selects: (secret: S) => boolean): S[] {
    const cached = this.filtered.get(key);
    if (cached?.version === this.version) return cached.list;
    // A few filters in use at a time (the sweep's, a test's): a bound, not an eviction policy.
    if (this.filtered.size >= 16) this.filtered.clear();
    const list = this.inOrder().filter(selects);
    this.filtered.set(key, { version: this.version, list });
    return list;
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
