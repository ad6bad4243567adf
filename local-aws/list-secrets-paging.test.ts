// ListSecrets pages from a cursor in creation order: a walk through the pages sees every secret
// that existed for the whole walk exactly once, in both sort orders, while secrets are created
// and deleted between pages (the sweep walks while rotations and people change the store).
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  type Filter,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';

let aws: LocalAws;
let sm: SecretsManagerClient;

beforeEach(async () => {
  aws = await startLocalAws({ clock: '2025-03-10T05:00:00Z' });
  sm = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 });
});
afterEach(async () => {
  sm.destroy();
  await aws.stop();
});

async function create(names: string[], tag?: string): Promise<void> {
  for (const name of names) {
    await sm.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: 'value-not-a-token',
        ...(tag ? { Tags: [{ Key: tag, Value: '7d' }] } : {}),
      }),
    );
  }
}

/** Walks every page; `between(page)` runs after each page, before the next request. */
async function walk(
  options: { sortOrder?: 'asc' | 'desc'; filters?: Filter[]; pageSize: number },
  between: (page: number) => Promise<void> = async () => {},
): Promise<string[]> {
  const seen: string[] = [];
  let token: string | undefined;
  let page = 0;
  do {
    const out = await sm.send(
      new ListSecretsCommand({
        MaxResults: options.pageSize,
        NextToken: token,
        SortOrder: options.sortOrder,
        Filters: options.filters,
      }),
    );
    seen.push(...(out.SecretList ?? []).map((s) => s.Name!));
    token = out.NextToken;
    await between(page++);
  } while (token);
  return seen;
}

const names = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}/${String(i).padStart(3, '0')}`);

describe('ListSecrets paging', () => {
  it('lists every secret once, oldest first or newest first, on full pages', async () => {
    // Prepare: the clock stands still, so creation order alone orders them.
    const all = names('app', 23);
    await create(all);

    // Act
    const ascending = await walk({ pageSize: 5 });
    const descending = await walk({ pageSize: 5, sortOrder: 'desc' });

    // Assess
    expect(ascending).toEqual(all);
    expect(descending).toEqual([...all].reverse());
  });

  it('keeps its place when secrets are created and deleted between pages', async () => {
    // Prepare
    const stay = names('stay', 30);
    const doomed = names('doomed', 10);
    await create([...stay.slice(0, 15), ...doomed, ...stay.slice(15)]);

    for (const sortOrder of ['asc', 'desc'] as const) {
      // Act: after each page, delete a doomed secret and create a new one.
      let n = 0;
      const seen = await walk({ pageSize: 4, sortOrder }, async () => {
        const gone = doomed.shift();
        if (gone) {
          await sm.send(
            new DeleteSecretCommand({ SecretId: gone, ForceDeleteWithoutRecovery: true }),
          );
        }
        await create([`late-${sortOrder}/${n++}`]);
      });

      // Assess: every secret there for the whole walk, once; nothing twice.
      expect(seen.filter((name) => name.startsWith('stay/')).sort()).toEqual(stay);
      expect(new Set(seen).size).toBe(seen.length);
    }
  });

  it('pages a filter that matches few of many secrets without losing or repeating one', async () => {
    // Prepare: 7 opted-in secrets spread among 120 that are not.
    const TAG = 'token-rotation:lifespan';
    const tagged = new Set([3, 17, 40, 41, 77, 100, 119]);
    for (let i = 0; i < 120; i++) {
      await create([`fleet/${String(i).padStart(3, '0')}`], tagged.has(i) ? TAG : undefined);
    }

    // Act
    const seen = await walk({ pageSize: 2, filters: [{ Key: 'tag-key', Values: [TAG] }] });

    // Assess
    expect(seen).toEqual([...tagged].map((i) => `fleet/${String(i).padStart(3, '0')}`));
  });

  it('refuses a token it did not issue', async () => {
    // Act + Assess
    await expect(
      sm.send(
        new ListSecretsCommand({ NextToken: Buffer.from('{"after":"x"}').toString('base64') }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
  });
});
