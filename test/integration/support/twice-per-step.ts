// Test-only rotation function: the deployed handler, run twice for every step it is sent, as
// when Secrets Manager retries a step whose first run succeeded but whose answer was lost.
import type { Context } from 'aws-lambda';
import { handler as rotate } from '#handlers/rotation';

export const handler = async (event: unknown, context: Context): Promise<void> => {
  await rotate(event, context);
  await rotate(structuredClone(event), context);
};
