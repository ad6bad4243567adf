// The demo's scopes scene (SPEC "Scopes and lifespan ceiling"): a secret declares what its token
// may do, the SaaS behind the example issuer grants more than it is asked for, and the rotation
// refuses the broader key: AWSCURRENT keeps the old one, the new one is revoked at the SaaS, and
// one token.scope-drift alert names the extra scope.
import { RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { TAG } from '#domain/vocabulary';
import type { SaasServer } from '../../support/saas-server.ts';
import { expectingFailure, type Timeline } from '../stage.ts';

/** A secret the demo made (demo.ts's DemoSecret). */
interface Made {
  name: string;
  arn: string;
}

/** What the scene needs of the demo: its clients, the SaaS and its helpers. */
export interface ScopesSceneContext {
  sm: SecretsManagerClient;
  saas: SaasServer;
  /** The kind tag of the example issuer deployed earlier (`lambda:acme-issuer`). */
  kindTag: string;
  grace: string;
  /** Every value the demo must never print (the last stage checks). */
  values: Set<string>;
  create(name: string, value: string, kind: string, tags: Record<string, string>): Promise<Made>;
  read(secret: Made): Promise<string>;
  settle(): Promise<void>;
  alertsFor(secret: Made, event?: string): { subject?: string; message: string }[];
}

const SECRET = 'demo/acme-reports-key';

export async function scopesScene(tl: Timeline, c: ScopesSceneContext): Promise<void> {
  await tl.stage(
    `${SECRET} declares ${TAG.scopes}=read; the SaaS mints a key that can also admin: refused`,
    async () => {
      const first = c.saas.issueKey('acme', { scopes: ['read'] });
      c.values.add(first.key);
      const secret = await c.create(
        SECRET,
        JSON.stringify({ keyId: first.id, token: first.key, account: 'acme' }),
        c.kindTag,
        { [TAG.lifespan]: '7d', [TAG.kind]: c.kindTag, [TAG.grace]: c.grace, [TAG.scopes]: 'read' },
      );
      const before = await c.read(secret);
      tl.say('the SaaS now grants every new key "admin" on top of what it is asked for');
      c.saas.widenScopes(['admin']);
      try {
        await expectingFailure(async () => {
          await c.sm.send(new RotateSecretCommand({ SecretId: secret.arn }));
          await c.settle();
        });
      } finally {
        c.saas.widenScopes(undefined);
      }
      for (const key of c.saas.keysOf('acme')) c.values.add(key.key);
      tl.check((await c.read(secret)) === before, 'AWSCURRENT still holds the old key');
      const broader = c.saas.keysOf('acme').filter((k) => k.scopes.includes('admin'));
      tl.check(
        broader.length > 0 && broader.every((k) => k.revoked),
        `the broader key (${broader.map((k) => k.id).join(', ')}) was revoked at the SaaS`,
      );
      // Secrets Manager's own RotationFailed event names the same version: the same incident.
      const alerts = c.alertsFor(secret);
      tl.check(
        alerts.length === 1 && alerts[0]?.subject?.includes('token.scope-drift') === true,
        `one alert: ${alerts.map((a) => a.subject ?? '(none)').join(' | ') || '(none)'}`,
      );
      tl.check(
        alerts[0]?.message.includes('extra: admin') === true,
        'it names the extra scope: admin',
      );
    },
  );
}
