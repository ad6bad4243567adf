// The demo's own stage checks: the whole lifecycle runs in-process and passes, and a stage fails,
// naming what it expected, when the behaviour it shows does not happen (a fault injected through
// a real seam: the stack's sweep schedule left unconnected, an issuer that refuses to mint).
import { describe, expect, it } from 'vitest';
import { type DemoResult, runDemo } from './demo.ts';

const quiet = { write: () => {} };

describe('npm run demo', () => {
  it('runs the whole lifecycle and every stage check passes', async () => {
    // Act
    const result: DemoResult = await runDemo(quiet);

    // Assess
    expect(result.failure).toBeUndefined();
    expect(result.ok).toBe(true);
    for (const shown of [
      'lifespan.overdue',
      'previous.revoked',
      'policy.invalid',
      'Subject: [CRITICAL] revoke.completed: demo/payments-api-key',
      'STS GetCallerIdentity with the new key answers',
      'nobody used the old SaaS key since the rotation: revoked',
      'previous.still-used is e-mailed before the key dies',
      'Subject: [CRITICAL] audit.chain-regressed: demo/payments-api-key',
      'Subject: [HIGH] rotation.failed: demo/ledger-api-key',
      'by arn:aws:iam::123456789012:user/dana: Success',
      'status --check exits 1 and marks demo/ledger-api-key quarantined',
      'none of the',
    ]) {
      expect(result.output).toContain(shown);
    }
    expect(result.output).toContain('every stage happened as shown');
    // The timeline stays readable: no handler's raw JSON log line in it (the failures it shows
    // are told by their e-mails).
    expect(result.output.split('\n').filter((line) => line.startsWith('{"level":'))).toEqual([]);
  }, 300_000);

  it('fails at the overdue stage, naming lifespan.overdue, when the sweep schedule is not connected', async () => {
    // Act
    const result = await runDemo({ ...quiet, fault: 'no-sweep' });

    // Assess
    expect(result.ok).toBe(false);
    expect(result.failure).toMatch(/next sweep finds the live token past its 7-day lifespan/);
    expect(result.failure).toContain('expected the sweep audited lifespan.overdue');
    expect(result.output).toContain('Demo FAILED');
    expect(result.output).not.toContain('every stage happened as shown');
  }, 120_000);

  it('fails at the custom issuer stage when the example issuer refuses to mint', async () => {
    // Act
    const result = await runDemo({ ...quiet, fault: 'issuer-refuses' });

    // Assess
    expect(result.ok).toBe(false);
    expect(result.failure).toContain('rotated by the example issuer');
    expect(result.failure).toContain('expected AWSCURRENT holds a new key that the SaaS accepts');
  }, 120_000);
});
