// The handlers' configuration: what a missing or malformed setting says at cold start.
import { describe, expect, it } from 'vitest';
import { lifespanSettings, loadConfig } from '#commons/config';

const BASE = { AUDIT_TABLE_NAME: 'audit', ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:1:alerts' };

describe('the sweep and tag-event settings', () => {
  it('gives the rotation function and the sweep interval in milliseconds', () => {
    // Act
    const settings = lifespanSettings(
      loadConfig({ ...BASE, ROTATION_FUNCTION_ARN: 'arn:rot', SWEEP_INTERVAL_MINUTES: '5' }),
    );

    // Assess
    expect(settings).toEqual({
      rotationFunctionArn: 'arn:rot',
      sweepIntervalMs: 300_000,
      limits: { maxLifespanMs: 30 * 24 * 3_600_000, graceExtensions: 1 },
    });
  });

  it('reads the stack ceiling on lifespans from MAX_LIFESPAN_HOURS', () => {
    const config = loadConfig({ ...BASE, MAX_LIFESPAN_HOURS: '1440' });
    expect(config.maxLifespanMs).toBe(60 * 24 * 3_600_000);
  });

  it.each(['0', '3', '8761', '7d', ''])('fails MAX_LIFESPAN_HOURS %j, naming it', (value) => {
    expect(() => loadConfig({ ...BASE, MAX_LIFESPAN_HOURS: value })).toThrow(
      `MAX_LIFESPAN_HOURS must be whole hours from 4 to 8760 (365 days), got "${value}"`,
    );
  });

  it('reads the grace extension bound from GRACE_EXTENSIONS (default one grace period)', () => {
    expect(loadConfig(BASE).graceExtensions).toBe(1);
    expect(loadConfig({ ...BASE, GRACE_EXTENSIONS: '0' }).graceExtensions).toBe(0);
    expect(
      lifespanSettings(
        loadConfig({ ...BASE, ROTATION_FUNCTION_ARN: 'arn:rot', GRACE_EXTENSIONS: '3' }),
      ).limits,
    ).toEqual({
      maxLifespanMs: 30 * 24 * 3_600_000,
      graceExtensions: 3,
    });
  });

  it.each(['-1', '5', '1.5', 'x', ''])('fails GRACE_EXTENSIONS %j, naming it', (value) => {
    expect(() => loadConfig({ ...BASE, GRACE_EXTENSIONS: value })).toThrow(
      `GRACE_EXTENSIONS must be a whole number from 0 to 4, got "${value}"`,
    );
  });

  it('fails naming ROTATION_FUNCTION_ARN when it is not set', () => {
    expect(() => lifespanSettings(loadConfig(BASE))).toThrow(
      'environment variable ROTATION_FUNCTION_ARN is required and not set',
    );
  });
});
