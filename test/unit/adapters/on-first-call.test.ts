// An adapter loaded on its first call (lambdas/adapters/on-first-call.ts): what the deployed
// functions use so that IAM, STS, Lambda, S3 and Systems Manager clients are loaded only by an
// invocation that needs them.
import { describe, expect, it } from 'vitest';
import { onFirstCall } from '#adapters/on-first-call';

interface Greeter {
  greet(name: string): Promise<string>;
  count?(): Promise<number>;
}

class RealGreeter implements Greeter {
  calls = 0;
  async greet(name: string) {
    this.calls += 1;
    return `hello ${name}`;
  }
  async count() {
    return this.calls;
  }
}

describe('onFirstCall', () => {
  it('loads nothing until a method is called, then loads once and answers as the real adapter', async () => {
    // Prepare
    const loads: RealGreeter[] = [];
    const greeter = onFirstCall<Greeter>(async () => {
      const real = new RealGreeter();
      loads.push(real);
      return real;
    }, ['greet', 'count']);

    // Act
    const before = loads.length;
    const answers = await Promise.all([greeter.greet('ada'), greeter.greet('bob')]);
    const count = await greeter.count?.();

    // Assess
    expect(before).toBe(0);
    expect(answers).toEqual(['hello ada', 'hello bob']);
    expect(count).toBe(2);
    expect(loads).toHaveLength(1);
  });

  it('passes a failed load to the caller and tries the load again on the next call', async () => {
    // Prepare
    let attempts = 0;
    const greeter = onFirstCall<Greeter>(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('chunk not readable');
      return new RealGreeter();
    }, ['greet']);

    // Act
    const first = greeter.greet('ada');

    // Assess
    await expect(first).rejects.toThrow('chunk not readable');
    await expect(greeter.greet('ada')).resolves.toBe('hello ada');
    expect(attempts).toBe(2);
  });

  it('passes the real method’s rejection through unchanged', async () => {
    // Prepare
    const failure = new Error('NoSuchEntity');
    const greeter = onFirstCall<Greeter>(
      async () => ({
        greet: async () => {
          throw failure;
        },
      }),
      ['greet'],
    );

    // Act / Assess
    await expect(greeter.greet('ada')).rejects.toBe(failure);
  });
});
