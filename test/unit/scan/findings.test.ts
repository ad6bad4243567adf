// From sightings to findings with an index: 10,000 random strings of token shape, looked up by
// keyed fingerprint, give no finding, while the indexed tokens hidden among them are all found;
// revoke reasons name the place within the revoke's reason rules.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type IndexedToken, keyedFingerprint } from '#domain/keyed-fingerprint';
import type { SecretDescription } from '#domain/ports';
import { MAX_REASON_LENGTH, requestProblems } from '#domain/revoke/index';
import { BASE62, mintToken } from '#domain/tokens';
import { type Finding, findingsOf } from '../../../cli/scan/findings.ts';
import { SecretReader } from '../../../cli/scan/lookup.ts';
import { revokeReason } from '../../../cli/scan/revoke.ts';
import { Sightings } from '../../../cli/scan/sightings.ts';

const KEY = randomBytes(48).toString('base64url');
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf';

/** An index in memory, keyed as the real one (keyed fingerprint), with every lookup counted. */
function memoryIndex(tokens: Record<string, string>) {
  const index = new Map<string, IndexedToken[]>();
  for (const [versionId, token] of Object.entries(tokens)) {
    const fingerprint = keyedFingerprint(KEY, token);
    index.set(fingerprint, [
      {
        fingerprint,
        secretArn: ARN,
        secretName: 'app/key',
        versionId,
        stages: ['AWSCURRENT'],
        firstSeen: '2026-01-01T00:00:00Z',
        lastSeen: '2026-01-01T00:00:00Z',
      },
    ]);
  }
  const asked: string[] = [];
  const secret: SecretDescription = {
    arn: ARN,
    name: 'app/key',
    rotationEnabled: true,
    versions: { 'v-hand': ['AWSCURRENT'], 'v-random': ['AWSPREVIOUS'] },
    tags: {},
  };
  return {
    asked,
    online: {
      key: KEY,
      lookUp: async (fps: string[]) => {
        asked.push(...fps);
        return new Map(fps.filter((fp) => index.has(fp)).map((fp) => [fp, index.get(fp)!]));
      },
      secrets: new SecretReader({ describe: async () => secret }, (call) => call()),
    },
  };
}

const noise = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const body = [...randomBytes(49)].map((b) => BASE62[b % 62]).join('');
    if (i % 3 === 0) return `acme_live_${body}`;
    if (i % 3 === 1) return randomBytes(30).toString('base64');
    return `${body.slice(0, 8)}-${body.slice(8, 12)}-${body.slice(12, 24)}`;
  });

describe('findingsOf with the index', () => {
  it('gives no finding on 10,000 random strings of token shape, each looked up', async () => {
    // Prepare
    const { online, asked } = memoryIndex({
      'v-hand': 'hs-9fQ2-xk81-ZZp0-Lm3w',
      'v-random': mintToken('acme_live_x'),
    });
    const sightings = new Sightings(true);
    sightings.scan(noise(10_000).join('\n'), (line) => ({ path: 'noise.txt', line }));

    // Act
    const findings = await findingsOf(sightings.entries(), online);

    // Assess
    expect(findings).toEqual([]);
    expect(new Set(asked).size).toBeGreaterThanOrEqual(10_000);
  });

  it('finds each indexed token hidden among them, and names it by keyed fingerprint only', async () => {
    // Prepare
    const hand = 'hs-9fQ2-xk81-ZZp0-Lm3w';
    const minted = mintToken('acme_live_x');
    const { online } = memoryIndex({ 'v-hand': hand, 'v-random': minted });
    const lines = noise(2_000);
    lines.splice(700, 0, `HAND=${hand}`);
    lines.splice(1500, 0, `{"token":"${minted}"}`);
    const sightings = new Sightings(true);
    sightings.scan(lines.join('\n'), (line) => ({ path: 'noise.txt', line }));

    // Act
    const findings = await findingsOf(sightings.entries(), online);

    // Assess
    findings.sort((a, b) => a.line - b.line);
    expect(findings.map((f) => [f.line, f.versionId, f.status, f.stages])).toEqual([
      [701, 'v-hand', 'live', ['AWSCURRENT']],
      [1501, 'v-random', 'live', ['AWSPREVIOUS']],
    ]);
    expect(findings.map((f) => f.fingerprint)).toEqual([
      keyedFingerprint(KEY, hand),
      keyedFingerprint(KEY, minted),
    ]);
    expect(JSON.stringify(findings)).not.toContain(hand);
    expect(JSON.stringify(findings)).not.toContain(minted.slice(10, 30));
  });
});

describe('revokeReason', () => {
  const finding = (path: string, commit?: string): Finding => ({
    path,
    line: 12,
    ...(commit && { commit }),
    recognisedBy: 'index',
    fingerprint: 'hfp1:x',
    status: 'live',
    stages: ['AWSCURRENT'],
    why: '',
  });

  it('names the file and line, or the commit and path', () => {
    expect(revokeReason(finding('src/app.ts'))).toBe(
      'token found by token-rotation scan at src/app.ts:12',
    );
    expect(revokeReason(finding('ci.yml', 'c9c2eaf8fad5c61068cd1122b815578737c33ec8'))).toBe(
      'token found by token-rotation scan at c9c2eaf8fad5:ci.yml:12',
    );
  });

  it('keeps to the revoke reason rules for a very long path, keeping its end', () => {
    // Act
    const reason = revokeReason(finding(`${'deep/'.repeat(80)}config.env`));

    // Assess
    expect([...reason].length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
    expect(requestProblems({ reason })).toEqual([]);
    expect(reason).toMatch(/^token found by token-rotation scan at …[a-z/]+\/config\.env:12$/);
  });
});
