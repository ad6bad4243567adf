// The issuers of every token kind wired to real clients (IAM, STS, Lambda), for the deployed
// handlers: clients are made on first use, so a function that only meets `random` secrets
// never builds them.
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { STSClient } from '@aws-sdk/client-sts';
import * as ENV from '#commons/env-names';
import { traced } from '#commons/tracer';
import { createIssuerFor, type IssuerDeps, type IssuerFor } from '#domain/kinds/registry';
import type { AccessKeys, FunctionInvoker } from '#domain/ports';
import { IamAccessKeys } from './iam-keys.ts';
import { LambdaInvoker } from './lambda-invoker.ts';

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
      // GetCallerIdentity with a new key: one try per attempt, the issuer's backoff does the waiting.
      accessKeys ??= new IamAccessKeys(traced(new IAMClient({ maxAttempts: 5 })), (key) =>
        traced(new STSClient({ credentials: key, maxAttempts: 1 })),
      );
      return accessKeys;
    },
    get invoker() {
      // Two attempts: throttling only; a mint that may have run is not sent twice by us.
      invoker ??= new LambdaInvoker(traced(new LambdaClient({ maxAttempts: 2 })));
      return invoker;
    },
  };
  return createIssuerFor(deps);
}
