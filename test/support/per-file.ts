// State a shared module keeps for the test file that is running. In the projects whose files share
// their worker's modules (isolate: false in vitest.config.ts) a support module is evaluated once,
// by the first file that imports it, and outlives that file. A module that collects something per
// file (what the CLI printed, say) registers how to empty it here; test/setup-shared.ts empties
// everything registered before each file is imported.

type Reset = () => void;

const worker = globalThis as { tokenRotationPerFileResets?: Set<Reset> };

/** Runs `reset` before every later test file of this worker. */
export function onEachFile(reset: Reset): void {
  worker.tokenRotationPerFileResets ??= new Set();
  worker.tokenRotationPerFileResets.add(reset);
}

/** Empties every registered per-file state (test/setup-shared.ts calls it). */
export function resetPerFileState(): void {
  for (const reset of worker.tokenRotationPerFileResets ?? []) reset();
}
