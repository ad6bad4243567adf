// The heads a writer remembers between appends: bounded, so a sweep over many secrets in one
// container does not grow its memory without end; the least recently written are forgotten.
import { describe, expect, it } from 'vitest';
import { ChainHeads } from '#adapters/dynamodb-audit-log';

const head = (seq: number) => ({ seq, hash: String(seq).padStart(64, '0') });

describe('ChainHeads', () => {
  it('forgets the least recently written chain past its limit, and only that one', () => {
    // Prepare
    const heads = new ChainHeads(2);
    heads.set('a', head(1));
    heads.set('b', head(1));

    // Act: a is written again, so b is now the least recent when c arrives
    heads.set('a', head(2));
    heads.set('c', head(1));

    // Assess
    expect(heads.get('a')).toEqual(head(2));
    expect(heads.get('b')).toBeUndefined();
    expect(heads.get('c')).toEqual(head(1));
  });

  it('keeps only seq and hash, not the record it was given', () => {
    // Prepare
    const heads = new ChainHeads();
    const record = { ...head(3), event: 'step.succeeded', detail: { big: 'x'.repeat(1000) } };

    // Act
    heads.set('a', record);

    // Assess
    expect(heads.get('a')).toEqual(head(3));
  });
});
