// The stack's lifespan ceiling: `maxLifespan` (a construct prop, `-c maxLifespan=60d`) reaches
// every function and the stack's outputs, and a ceiling outside 4h..365d fails synth early.
import { App, Duration, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readContext } from '../../infra/context.ts';
import { TokenRotation } from '../../infra/token-rotation.ts';
import { functionOf, type Synthesized, synthApp } from './support.ts';

const read = (context: Record<string, unknown>) =>
  readContext((key) => ({ alertEmails: 'none', ...context })[key]);

describe('maxLifespan', () => {
  let raised: Synthesized;
  beforeAll(() => {
    raised = synthApp({ maxLifespan: '60d' });
  });

  it('tells every function the ceiling in hours, and says it in an output', () => {
    // Assess
    for (const id of ['Rotation', 'Sweep', 'TagEvents', 'Revoke']) {
      expect(functionOf(raised.template, id).props.Environment.Variables.MAX_LIFESPAN_HOURS).toBe(
        '1440',
      );
    }
    expect(raised.template.toJSON().Outputs.MaxLifespanHours.Value).toBe('1440');
  });

  it.each([
    ['60d', Duration.days(60)],
    ['36h', Duration.hours(36)],
  ])('reads -c maxLifespan=%s as a lifespan tag is written', (value, expected) => {
    expect(read({ maxLifespan: value }).maxLifespan?.toHours()).toBe(expected.toHours());
  });

  it.each(['60', '2mo', '60D', '0d', 'sixty'])(
    'fails -c maxLifespan=%s, naming the key',
    (value) => {
      expect(() => read({ maxLifespan: value })).toThrow(
        `context maxLifespan must be <n>d or <n>h like a lifespan tag (e.g. 60d), got "${value}"`,
      );
    },
  );

  it.each([
    [Duration.hours(3), '3 hours'],
    [Duration.days(366), '366 days'],
    [Duration.minutes(270), '4 hours 30 minutes'],
  ])('fails a ceiling of %s: whole hours from 4 hours to 365 days', (maxLifespan, shown) => {
    expect(
      () => new TokenRotation(new Stack(new App(), 'Check'), 'TokenRotation', { maxLifespan }),
    ).toThrow(`maxLifespan must be whole hours from 4 hours to 365 days, got ${shown}`);
  });
});
