// Model-based check of one secret under a rotation in flight, an emergency revoke and a sweep, in a
// local AWS session (embedded, or behind AWS_ENDPOINT_URL) with the real domain code run here over
// clients at that endpoint, on the session's clock: fast-check chooses the order in which their
// Secrets Manager, lock, tagging and issuer calls happen (a deterministic Interleaver lets one
// call through at a time), and after every interleaving the promises of a revoke must hold, and
// rotations must work again afterwards.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromChoices, Interleaver } from '../support/interleave.ts';
import { RaceWorld } from '../support/race-world.ts';
import { scaled } from './support/endpoint.ts';
import { needsSessions, openSession, type Session, type SuiteAt } from './support/session.ts';
import { idleRotationFunction } from './support/session-functions.ts';

const skipped = await needsSessions(
  import.meta.url,
  'what SNS published (every interleaving is checked against its alerts) and its idle signal',
);

let aws: Session;
let suite: SuiteAt;
let idleRotationArn: string;

beforeAll(async () => {
  if (skipped) return;
  aws = await openSession({ clock: '2026-03-02T09:00:00Z' }, { stackName: 'Interleavings' });
  suite = aws.suite;
  idleRotationArn = await idleRotationFunction(aws, 'Interleavings');
});

afterAll(async () => {
  if (skipped) return;
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
    it(
      `keeps every promise of a ${mode} revoke`,
      async () => {
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
      },
      scaled(120_000),
    );
  }
});
