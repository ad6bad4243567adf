// A deterministic scheduler for races between real handlers on the embedded local AWS. Each
// actor (a rotation step, a revoke, a sweep) runs with ports wrapped so that every call first
// waits at a gate; the scheduler lets exactly one actor run at a time, and only once every other
// live actor is waiting at a gate or done, picks which one goes next from a list of choices (a
// fast-check arbitrary, or a hand-written list). The order of calls is then fixed by the choices
// alone, however slow the machine: no sleeps, no timing.

import { aroundMethods } from './around.ts';

export interface Actor {
  name: string;
  state: 'running' | 'waiting' | 'done';
  /** What the actor is about to do, while waiting. */
  next?: string;
  release?: () => void;
}

/** The call sequence an interleaving produced, `actor: call`, for failure messages. */
export type Trace = string[];

export class Interleaver {
  readonly actors: Actor[] = [];
  readonly trace: Trace = [];
  private wake: (() => void) | undefined;
  private turn = 0;

  /**
   * `choose(n, waiting)` picks the index of the next actor among the `n` waiting ones, in the
   * order they were spawned. Default: always the first (each actor runs to its end in turn).
   */
  constructor(private readonly choose: (n: number, waiting: Actor[]) => number = () => 0) {}

  /** Starts `work` as an actor named `name`; its ports call `gate(name, call)` before each call. */
  spawn<T>(name: string, work: () => Promise<T>): Promise<T> {
    const actor: Actor = { name, state: 'running' };
    this.actors.push(actor);
    // Every actor starts at a gate, so spawning order does not decide who goes first.
    return this.gate(name, 'start')
      .then(work)
      .finally(() => {
        actor.state = 'done';
        this.poke();
      });
  }

  /** Waits until the scheduler lets `name` make `call`. */
  gate(name: string, call: string): Promise<void> {
    const actor = this.actors.find((a) => a.name === name);
    if (!actor) throw new Error(`interleave: no actor named ${name}`);
    return new Promise<void>((resolve) => {
      actor.state = 'waiting';
      actor.next = call;
      actor.release = () => {
        actor.state = 'running';
        this.trace.push(`${name}: ${call}`);
        resolve();
      };
      this.poke();
    });
  }

  /** Runs every actor to its end, one call at a time; resolves when all are done. */
  async run(): Promise<void> {
    for (;;) {
      while (this.actors.some((a) => a.state === 'running')) await this.changed();
      const waiting = this.actors.filter((a) => a.state === 'waiting');
      if (waiting.length === 0) return;
      const pick = waiting[this.choose(waiting.length, waiting) % waiting.length]!;
      this.turn++;
      pick.release!();
    }
  }

  /** How many calls were let through. */
  get turns(): number {
    return this.turn;
  }

  private changed(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Picks from a fixed list of choices, then the first waiting actor once the list runs out. */
export function fromChoices(choices: readonly number[]): (n: number) => number {
  let i = 0;
  return (n) => (i < choices.length ? choices[i++]! % n : 0);
}

/** Picks the named actor whenever it is waiting, else the first: "let `name` run ahead". */
export function favour(...names: string[]): (n: number, waiting: Actor[]) => number {
  return (_n, waiting) => {
    for (const name of names) {
      const at = waiting.findIndex((a) => a.name === name);
      if (at >= 0) return at;
    }
    return 0;
  };
}

/**
 * `target` with its methods (all but `constructor`, or those named in `only`) made to wait at the
 * gate first, each call named `label.method`. Everything else passes through unchanged.
 */
export function gated<T extends object>(
  target: T,
  gate: (call: string) => Promise<void>,
  label: string,
  only?: readonly string[],
): T {
  return aroundMethods(target, label, only, async (call, invoke) => {
    await gate(call);
    return invoke();
  });
}

/** One phase of a hand-written schedule: let `actor` run until `until` or `after` (or its end). */
export interface Phase {
  actor: string;
  /** The phase ends when the actor is about to make this call (as in the trace: `sm.putPending`). */
  until?: string;
  /** The phase ends once the actor has made this call. */
  after?: string;
}

/**
 * A hand-written schedule: each phase runs its actor until the phase's `until` call is next or
 * its `after` call was made (or the actor is done), then the next phase begins. After the last
 * phase, the first waiting actor goes. Written in calls, not counts, so that a schedule means the
 * same order of events whatever other calls the code makes in between.
 */
export function phases(...list: Phase[]): (n: number, waiting: Actor[]) => number {
  let i = 0;
  let last: { actor: string; call: string | undefined } | undefined;
  return (_n, waiting) => {
    while (i < list.length) {
      const phase = list[i]!;
      const made =
        last?.actor === phase.actor && phase.after !== undefined && last.call === phase.after;
      const at = waiting.findIndex((a) => a.name === phase.actor);
      if (!made && at >= 0 && (phase.until === undefined || waiting[at]!.next !== phase.until)) {
        last = { actor: phase.actor, call: waiting[at]!.next };
        return at;
      }
      i++;
      last = undefined;
    }
    return 0;
  };
}
