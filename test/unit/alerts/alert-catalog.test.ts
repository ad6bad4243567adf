import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALERT_CATALOG,
  ALERT_NAMES,
  type AlertFields,
  type AlertName,
  alertIncidentKey,
  alertOf,
} from '#domain/alerts/catalog';
import { formatAlert, MAX_SUBJECT_LENGTH } from '#domain/alerts/format';
import type { RevokedVersion } from '#domain/revoke/index';
import { ALERT_SEVERITY, FAILURE_REASONS, STEPS, type Trigger } from '#domain/vocabulary';

// Every alert in the catalog, rendered from generated fields with secret-shaped canaries planted
// in every free-text field (errors, reasons given, problems), then formatted as the e-mail SNS
// sends: what a person reads must hold to the same rules whichever alert it is.

const CTX = {
  at: new Date('2025-03-04T05:06:07.890Z'),
  region: 'eu-west-1',
  stackName: 'TokenRotation',
  auditTableName: 'TokenRotation-AuditTrail',
};

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A token as issuers mint them: a prefix, then at least 32 mixed-case letters and digits. */
const canary = fc
  .tuple(
    fc.constantFrom('acme_live_', 'ghp_', 'sk_test_', ''),
    fc.string({ unit: fc.constantFrom(...ALNUM), minLength: 37, maxLength: 48 }),
  )
  // Mixed case and digits for sure, as a CSPRNG token of this length has them.
  .map(([prefix, body]) => `${prefix}Aa9${body}`);

/** Free text that quotes a secret value somewhere in it (an issuer's error, a user's reason). */
const tainted = fc
  .tuple(fc.string({ maxLength: 60 }), canary, fc.string({ maxLength: 60 }))
  .map(([before, secret, after]) => ({ text: `${before} ${secret} ${after}`, secret }));

const name = fc.stringMatching(/^[A-Za-z0-9/_+=.@-]{1,300}$/);
const secret = fc.tuple(name, fc.stringMatching(/^[A-Za-z0-9]{6}$/)).map(([n, suffix]) => ({
  name: n,
  arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${n}-${suffix}`,
}));
const versionId = fc.uuid();
const trigger: fc.Arbitrary<Trigger | undefined> = fc.option(
  fc.record({
    source: fc.constantFrom<Trigger['source']>('schedule', 'tag', 'console', 'runbook', 'cli'),
    principal: fc.constant('arn:aws:sts::123456789012:assumed-role/Admin/alice'),
  }),
  { nil: undefined },
);
const revokedVersion: fc.Arbitrary<RevokedVersion> = fc.record({
  versionId,
  stages: fc.subarray(['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING']),
  token: fc.constantFrom('AKIAIOSFODNN7EXAMPLE', 'fp:3f9a1c0b'),
});
const stagesAfter = fc.oneof(
  fc.record({
    read: fc.constant(true as const),
    current: fc.option(versionId, { nil: undefined }),
    text: fc.constant('AWSCURRENT on version 1'),
  }),
  fc.record({
    read: fc.constant(false as const),
    text: fc.constant('they could not be read (AccessDeniedException)'),
  }),
);
const count = fc.nat({ max: 200 });

/** Generated fields, with the canaries planted in them, for one alert. */
interface Case<N extends AlertName> {
  fields: AlertFields[N];
  secrets: string[];
}

const about = fc.record({ secret, trigger });

/** A scope drift whose issuer reported a token among the scopes, and a revoke text quoting one. */
function scopeDriftCase(wildcard: boolean) {
  return fc
    .tuple(about, versionId, canary, tainted, fc.constantFrom('rotation' as const, 'live' as const))
    .map(([a, v, leaked, revoked, where]) => ({
      fields: {
        ...a,
        where,
        versionId: v,
        tokenName: 'key_0a1b2c',
        source: "the issuer function's mint and verify answers",
        revoked: revoked.text,
        drift: {
          declared: ['read'],
          actual: ['read', leaked, wildcard ? 'admin:*' : 'admin'],
          extra: [leaked, wildcard ? 'admin:*' : 'admin'],
          wildcard,
          incident: '0123456789abcdef',
        },
      },
      secrets: [leaked, revoked.secret],
    }));
}

// One generator per catalog entry: a new entry without one does not compile.
const CASES: { [N in AlertName]: fc.Arbitrary<Case<N>> } = {
  'rotation.failed': fc
    .tuple(about, versionId, fc.constantFrom(...STEPS), tainted, stagesAfter)
    .chain(([a, v, step, error, after]) =>
      fc.constantFrom(...FAILURE_REASONS, 'unheard-of').map((reason) => ({
        fields: { ...a, versionId: v, step, error: error.text, reason, stagesAfter: after },
        secrets: [error.secret],
      })),
    ),
  'token.shared': fc
    .tuple(
      about,
      secret,
      fc.option(fc.constantFrom('ci', 'staging', 'prod'), { nil: undefined }),
      fc.option(fc.constantFrom('ci', 'staging', 'prod'), { nil: undefined }),
      fc.boolean(),
    )
    .map(([a, other, env, otherEnv, enforced]) => ({
      fields: {
        ...a,
        incident: `hfp1:${'A'.repeat(43)}#${other.arn}`,
        environment: env,
        other: { ...other, environment: otherEnv },
        enforced: enforced ? [a.secret.name] : [],
      },
      secrets: [],
    })),
  'token.index.failed': fc.tuple(about, tainted).map(([a, error]) => ({
    fields: { ...a, error: error.text },
    secrets: [error.secret],
  })),
  'rotation.stuck': fc.tuple(about, versionId).map(([a, v]) => ({
    fields: { ...a, versionId: v, pendingFor: '3h 2m' },
    secrets: [],
  })),
  'audit.chain-regressed': about.map((a) => ({
    fields: {
      ...a,
      message:
        "the chain's head went back: checkpoint 7 recorded record 12 (ab12cd34), the table now says record 10 (9f8e7d6c)",
      checkpoint:
        'checkpoints/2026-12-02T18:00:00.000Z-000000000007.json (version 3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY)',
    },
    secrets: [],
  })),
  'lifespan.overdue': fc.tuple(about, versionId, fc.boolean()).map(([a, v, rotateNow]) => ({
    fields: { ...a, versionId: v, age: '8d 1h', lifespan: '7d', rotateNow },
    secrets: [],
  })),
  'token.scope-drift': scopeDriftCase(false),
  'token.scope-drift.wildcard': scopeDriftCase(true),
  'policy.invalid': fc
    .tuple(about, fc.array(tainted, { minLength: 1, maxLength: 3 }))
    .map(([a, problems]) => ({
      fields: { ...a, fingerprint: 'f1e2d3', problems: problems.map((p) => p.text) },
      secrets: problems.map((p) => p.secret),
    })),
  'previous.revoke.failed': fc
    .tuple(
      about,
      versionId,
      fc.constantFrom('revoke' as const, 'delete' as const),
      tainted,
      fc.option(stagesAfter, { nil: undefined }),
    )
    .map(([a, v, stage, error, after]) => ({
      fields: {
        ...a,
        versionId: v,
        stage,
        error: error.text,
        ...(after && { stagesAfter: after }),
      },
      secrets: [error.secret],
    })),
  'previous.revoke.skipped': fc.tuple(about, versionId).map(([a, v]) => ({
    fields: { ...a, versionId: v, by: 'accessKeyId' },
    secrets: [],
  })),
  'previous.still-used': fc
    .tuple(about, versionId, fc.boolean(), fc.string({ maxLength: 40 }))
    .map(([a, v, extended, usedBy]) => ({
      fields: {
        ...a,
        versionId: v,
        tokenName: 'AKIAEXAMPLEPREVIOUS1',
        lastUsedAt: '2026-12-02T10:00:00Z',
        usedBy,
        replacedAt: '2026-12-02T08:00:00Z',
        ...(extended && { extendedUntil: '2026-12-02T12:00:00Z' }),
      },
      secrets: [],
    })),
  'revoke.completed': fc
    .tuple(
      about,
      fc.constantFrom('reissue' as const, 'quarantine' as const),
      versionId,
      tainted,
      fc.array(revokedVersion, { maxLength: 3 }),
      fc.option(tainted, { nil: undefined }),
    )
    .map(([a, mode, v, reason, revoked, stuck]) => ({
      fields: {
        ...a,
        revokeId: 'revoke-1',
        mode,
        newVersionId: v,
        reasonGiven: reason.text,
        revoked,
        stackName: 'TokenRotation',
        ...(stuck ? { stuckLock: { staleAt: '2025-03-04T06:00:00Z', error: stuck.text } } : {}),
      },
      secrets: [reason.secret, ...(stuck ? [stuck.secret] : [])],
    })),
  'revoke.refused': fc
    .tuple(
      about,
      fc.constantFrom('deleted', 'not-opted-in', 'invalid-request', 'quarantined', 'unknown-kind'),
      tainted,
    )
    .map(([a, code, message]) => ({
      fields: { ...a, code, message: message.text, requestKey: 'tag:abc', stackName: 'Ops' },
      secrets: [message.secret],
    })),
  'revoke.secret-not-found': fc.tuple(about, tainted).map(([a, message]) => ({
    fields: { ...a, message: message.text, incident: 'not-found:abc' },
    secrets: [message.secret],
  })),
  'revoke.failed-unstarted': fc.tuple(about, tainted).map(([a, message]) => ({
    fields: {
      ...a,
      failedAt: 'lock',
      message: message.text,
      incident: 'failed:abc',
      stackName: 'TokenRotation',
    },
    secrets: [message.secret],
  })),
  'revoke.failed': fc
    .tuple(
      about,
      tainted,
      fc.array(revokedVersion, { maxLength: 3 }),
      fc.array(revokedVersion, { maxLength: 3 }),
      fc.option(tainted, { nil: undefined }),
      fc.option(stagesAfter, { nil: undefined }),
    )
    .map(([a, error, revoked, notRevoked, stuck, after]) => ({
      fields: {
        ...a,
        stage: 'issuer',
        error: error.text,
        requestKey: 'console:abc',
        revoked,
        notRevoked,
        stackName: 'TokenRotation',
        ...(stuck ? { stuckLock: { staleAt: '2025-03-04T06:00:00Z', error: stuck.text } } : {}),
        ...(after && { stagesAfter: after }),
      },
      secrets: [error.secret, ...(stuck ? [stuck.secret] : [])],
    })),
  'secretsmanager.rotation.failed': fc
    .tuple(secret, fc.option(versionId, { nil: undefined }), fc.option(tainted, { nil: undefined }))
    .map(([s, v, error]) => ({
      fields: {
        ...s,
        incident: v ?? 'hour:2025-03-04T05',
        ...(v ? { versionId: v } : {}),
        ...(error ? { error: error.text } : {}),
      },
      secrets: error ? [error.secret] : [],
    })),
  'secretsmanager.rotation.abandoned': fc
    .tuple(secret, fc.option(versionId, { nil: undefined }), fc.option(tainted, { nil: undefined }))
    .map(([s, v, error]) => ({
      fields: {
        ...s,
        incident: v ?? 'hour:2025-03-04T05',
        ...(v ? { versionId: v } : {}),
        ...(error ? { error: error.text } : {}),
      },
      secrets: error ? [error.secret] : [],
    })),
  'health.exposed-keys': fc
    .record({
      keys: count,
      unheld: fc.array(fc.stringMatching(/^AKIA[A-Z0-9]{16}$/), { maxLength: 30 }),
      secrets: count,
      revoked: count,
      failed: count,
      left: count,
    })
    .map((counts) => ({
      fields: {
        eventArn: 'arn:aws:health:global::event/IAM/AWS_RISK_CREDENTIALS_EXPOSED/abc',
        code: 'AWS_RISK_CREDENTIALS_EXPOSED',
        ...counts,
      },
      secrets: [],
    })),
};

const forEveryAlert = (check: <N extends AlertName>(name: N, c: Case<N>) => void) => {
  for (const alertName of ALERT_NAMES) {
    fc.assert(
      fc.property(CASES[alertName] as fc.Arbitrary<Case<typeof alertName>>, (c) =>
        check(alertName, c),
      ),
      { numRuns: 60 },
    );
  }
};

describe('the alert catalog', () => {
  it('declares every alert the suite raises, each with a generator here', () => {
    // Assess: the generators are typed by the catalog, so this is the same list both ways.
    expect([...ALERT_NAMES].sort()).toEqual(Object.keys(CASES).sort());
    expect(ALERT_NAMES.length).toBeGreaterThanOrEqual(14);
  });

  it('renders every alert with the severity and event its entry declares', () => {
    forEveryAlert((alertName, { fields }) => {
      // Act
      const alert = alertOf(alertName, fields);
      const { attributes } = formatAlert(alert, CTX);

      // Assess
      const declared = ALERT_CATALOG[alertName];
      // token.shared alone depends on its fields: critical when the two environments differ.
      const shared =
        alertName === 'token.shared' ? (fields as AlertFields['token.shared']) : undefined;
      const critical = shared !== undefined && shared.environment !== shared.other.environment;
      expect(alert.severity).toBe(critical ? 'critical' : declared.severity);
      expect(alert.event).toBe(declared.event);
      expect(attributes.severity).toBe(alert.severity);
      expect(attributes.event).toBe(declared.event);
    });
  });

  it('agrees with the severities other modules still read from the vocabulary', () => {
    for (const entry of Object.values(ALERT_CATALOG)) {
      const old = ALERT_SEVERITY[entry.event];
      if (old !== undefined) {
        expect(entry.severity, entry.event).toBe(old);
      }
    }
  });

  it('gives every alert a one-line subject under 100 characters and exactly three attributes', () => {
    forEveryAlert((alertName, { fields }) => {
      // Act
      const { subject, attributes } = formatAlert(alertOf(alertName, fields), CTX);

      // Assess
      expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
      expect(subject).toMatch(/^[\x20-\x7e]+$/);
      expect(Object.keys(attributes).sort()).toEqual(['event', 'secret', 'severity']);
      for (const value of Object.values(attributes)) expect(value).not.toMatch(/[\r\n]/);
    });
  });

  it('never carries a secret value quoted in its fields into the subject, body or attributes', () => {
    forEveryAlert((alertName, { fields, secrets }) => {
      // Act
      const { subject, message, attributes } = formatAlert(alertOf(alertName, fields), CTX);

      // Assess
      const everything = [subject, message, ...Object.values(attributes)].join('\n');
      for (const value of secrets) {
        expect(everything).not.toContain(value);
        // Nor a telling piece of it.
        expect(everything).not.toContain(value.slice(-20));
      }
    });
  });

  it('fills in every value a command in an e-mail needs: no <placeholder> left for the reader to find', () => {
    // A command the reader runs as it stands: `aws <service> <operation> ...` or the CLI's.
    const COMMAND = /\b(?:aws [a-z0-9-]+ [a-z0-9-]+|(?:npx )?token-rotation [a-z-]+)\b.*$/gm;
    forEveryAlert((alertName, { fields }) => {
      // Act
      const { message } = formatAlert(alertOf(alertName, fields), CTX);

      // Assess
      for (const command of message.match(COMMAND) ?? []) {
        expect(command, `${alertName}: ${command}`).not.toMatch(/<[A-Za-z][^<>]*>/);
      }
    });
  });

  it("names the failed rotation's secret and version in the command that clears its AWSPENDING", () => {
    // Prepare
    const versionId = '0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9';
    const fields = {
      secret: {
        name: 'prod/payments/stripe-key',
        arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/payments/stripe-key-AbCdEf',
      },
      versionId,
      step: 'setSecret' as const,
      error: 'the issuer answered 503',
      reason: 'issuer-failed',
      stagesAfter: { read: true as const, current: 'f'.repeat(32), text: 'AWSCURRENT on f' },
    };

    // Act
    const { message } = formatAlert(alertOf('rotation.failed', fields), CTX);

    // Assess: the whole command, on one numbered line of its own, not cut short
    expect(message).toMatch(
      new RegExp(
        `^  \\d+\\. aws secretsmanager update-secret-version-stage --secret-id prod/payments/stripe-key --version-stage AWSPENDING --remove-from-version-id ${versionId}$`,
        'm',
      ),
    );
  });

  it('names a non-empty summary and at least one next step for every alert', () => {
    forEveryAlert((alertName, { fields }) => {
      // Act
      const alert = alertOf(alertName, fields);

      // Assess
      expect(alert.summary.trim()).not.toBe('');
      expect(alert.nextSteps.length).toBeGreaterThan(0);
      expect(alert.incident).not.toBe('');
    });
  });

  it("keeps Secrets Manager's own failure events one incident with the rotation's alert", () => {
    // Prepare
    const versionId = '11111111-2222-3333-4444-555555555555';
    const ours = { event: 'rotation.failed' as const, incident: versionId };

    // Act
    const theirs = alertOf('secretsmanager.rotation.abandoned', {
      arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf',
      name: 'a',
      incident: versionId,
      versionId,
    });

    // Assess
    expect(alertIncidentKey(theirs)).toBe(alertIncidentKey(ours));
    expect(alertIncidentKey({ event: 'revoke.failed', incident: versionId })).not.toBe(
      alertIncidentKey(ours),
    );
  });
});
