// One setting for slower endpoints: every wait, hook and test timeout of the integration suite
// is multiplied by INTEGRATION_TIMEOUT_SCALE (default 1; a real account across an ocean may want
// 3). Read here only, for the suite (endpoint.ts) and its runner (run-external.ts) alike.
export const TIMEOUT_SCALE = (() => {
  const raw = process.env.INTEGRATION_TIMEOUT_SCALE;
  if (raw === undefined || raw === '') return 1;
  const scale = Number(raw);
  if (!(scale > 0)) {
    throw new Error(`INTEGRATION_TIMEOUT_SCALE must be a number above 0, found "${raw}"`);
  }
  return scale;
})();

/** `ms` scaled for the endpoint (TIMEOUT_SCALE). */
export const scaled = (ms: number): number => Math.ceil(ms * TIMEOUT_SCALE);
