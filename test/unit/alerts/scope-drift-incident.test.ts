import { describe, expect, it } from 'vitest';
import { alertIncidentKey, alertOf } from '#domain/alerts/catalog';

describe('a rotation refused for scope drift', () => {
  it("is the same incident as Secrets Manager's RotationFailed for its version: one e-mail", () => {
    // Act
    const ours = alertOf('token.scope-drift.wildcard', {
      secret: { arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf', name: 's' },
      where: 'rotation',
      versionId: 'v1',
      source: 'the issuer',
    });
    const theirs = alertOf('secretsmanager.rotation.failed', {
      arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf',
      name: 's',
      incident: 'v1',
      versionId: 'v1',
    });

    // Assess
    expect(alertIncidentKey(ours)).toBe(alertIncidentKey(theirs));
  });
});
