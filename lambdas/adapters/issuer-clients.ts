// The issuers of every token kind wired to real clients (IAM, STS, Lambda), for the deployed
// handlers: each adapter, its SDK client included, is imported on its first call
// (on-first-call.ts), so a function that only meets `random` secrets never loads them.
import * as ENV from '#commons/env-names';
import { createIssuerFor, type IssuerDeps, type IssuerFor } from '#domain/kinds/registry';
import type { AccessKeys, FunctionInvoker } from '#domain/ports';
import { onFirstCall } from './on-first-call.ts';

const HOUR_MS = 3_600_000;

/** Reads DELETE_DEACTIVATED_AFTER_HOURS (whole hours ≥ 1; the construct sets it). */
export function deleteAfterMsFrom(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[ENV.DELETE_DEACTIVATED_AFTER_HOURS];
  if (raw === undefined || raw === '') return undefined;
  const hours = Number(raw);
  if (!Number.isInteger(hours) || hours < 1) {
    throw new Error(
      `DELETE_DEACTIVATED_AFTER_HOURS must be a whole number of hours ≥ 1, got "${raw}"`,
    );
  }
  return hours * HOUR_MS;
}

/** `issuerFor` for the deployed functions. Endpoints and region come from the SDK's own configuration. */
export function deployedIssuerFor(
  env: NodeJS.ProcessEnv = process.env,
  extra: Pick<IssuerDeps, 'clock' | 'tokenUses'> = {},
): IssuerFor {
  let accessKeys: AccessKeys | undefined;
  let invoker: FunctionInvoker | undefined;
  const deleteAfterMs = deleteAfterMsFrom(env);
  // Getters: IssuerDeps is read per kind, so only the kinds a secret uses build clients.
  const deps: IssuerDeps = {
    ...extra,
    ...(deleteAfterMs !== undefined && { deleteAfterMs }),
    get accessKeys() {
      accessKeys ??= onFirstCall(
        async () => (await import('./iam-keys.ts')).deployedAccessKeys(),
        ['list', 'create', 'setStatus', 'delete', 'whoAmI', 'userTags', 'lastUsed'],
      );
      return accessKeys;
    },
    get invoker() {
      invoker ??= onFirstCall(
        async () => (await import('./lambda-invoker.ts')).deployedInvoker(),
        ['invoke'],
      );
      return invoker;
    },
  };
  return createIssuerFor(deps);
}
