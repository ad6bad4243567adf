// Model-based check of one secret under a rotation in flight, an emergency revoke and a sweep, on
// the embedded local AWS with the real domain code: fast-check chooses the order in which their
// Secrets Manager, lock, tagging and issuer calls happen (a deterministic Interleaver lets one
// call through at a time), and after every interleaving the promises of a revoke must hold, and
// rotations must work again afterwards.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { type InstalledSuite, installSuite } from '#local-aws/suite';
import { fromChoices, Interleaver } from '../support/interleave.ts';
import { RaceWorld } from '../support/race-world.ts';
import { embeddedOnly } from './support/endpoint.ts';

const onlyEmbedded = embeddedOnly(
  import.meta.url,
  "in-process rotation, revoke and sweep steps interleaved by a deterministic scheduler, and the local AWS's SNS publish record",
);

let aws: LocalAws;
let suite: InstalledSuite;
let idleRotationArn: string;

beforeAll(async () => {
  if (onlyEmbedded) return;
  aws = await startLocalAws({ clock: new Date('2026-03-02T09:00:00Z') });
  suite = await installSuite(aws, { stackName: 'Interleavings' });
  idleRotationArn = aws.functions.register('Interleavings-idle-rotation', async () => undefined);
});

afterAll(async () => {
  if (onlyEmbedded) return;
  await aws.idle();
  await aws.stop();
});

let label = 0;

async function explore(mode: 'reissue' | 'quarantine', withSweep: boolean, choices: number[]) {
  const world = new RaceWorld(aws, suite, idleRotationArn);
  await world.setUp(`model-${mode}-${++label}`);
  const run = new Interleaver(fromChoices(choices));
  const actors = [world.rotation(run), world.revoke(run, mode)];
  if (withSweep) actors.push(world.sweep(run));
  await run.run();
  await Promise.all(actors);
  await aws.idle();
  const broken = await world.check();
  await world.tearDown();
  return { broken, trace: run.trace };
}

describe('a rotation, an emergency revoke and a sweep on one secret, in any order', () => {
  for (const mode of ['reissue', 'quarantine'] as const) {
    it(`keeps every promise of a ${mode} revoke`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          // Runs of calls by one actor, then another: races are windows between two calls.
          fc.array(fc.tuple(fc.nat({ max: 2 }), fc.integer({ min: 1, max: 12 })), {
            maxLength: 12,
          }),
          async (withSweep, runs) => {
            const choices = runs.flatMap(
              ([actor, length]) => Array(length).fill(actor) as number[],
            );
            const { broken, trace } = await explore(mode, withSweep, choices);
            expect({ broken, trace }).toEqual({ broken: [], trace });
          },
        ),
        { numRuns: 40, seed: 20260302, endOnFailure: true },
      );
    }, 120_000);
  }
});
