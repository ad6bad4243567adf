// The unit, CLI and integration files share their worker's modules (isolate: false in vitest.config.ts): one
// file runs after another with the same logger, the same SDK client classes, the same support
// modules and the same process.env. What a file changes there must not reach the next file, or a
// test would pass or fail for what ran before it. This file runs before each of those files is
// imported, so the file's own top-level code (a logger level, a module read of AWS_ENDPOINT_URL)
// already sees the worker as it started:
// - process.env is put back as it was at the worker's start (files set AWS_ENDPOINT_URL and
//   credentials for the clients they build, not always through vi.stubEnv or with an undo);
// - vi.spyOn spies left by the previous file are undone, and the logger is back at its start level;
// - per-file state of shared support modules (test/support/per-file.ts) is emptied;
// - and after each file, no SDK client class may still be mocked (aws-sdk-client-mock's
//   mockClient(Class) patches the class's send for every instance, so the next file's "real"
//   clients would answer from that file's mock): the file is failed, naming the class, and the
//   class is unpatched. The same reset runs then too, so nothing lingers after the last file.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, vi } from 'vitest';
import { logger } from '#commons/logger';
import { resetPerFileState } from './support/per-file.ts';

const worker = globalThis as {
  tokenRotationLogLevel?: string;
  tokenRotationEnv?: Record<string, string | undefined>;
};
// The first file's setup sees the level the logger was created with (modules are shared, so
// this module-level line runs again for every file, but the first value stays).
worker.tokenRotationLogLevel ??= logger.getLevelName();
const startLevel = worker.tokenRotationLogLevel as Parameters<typeof logger.setLogLevel>[0];
worker.tokenRotationEnv ??= { ...process.env };
const startEnv = worker.tokenRotationEnv;

const CLIENT_CLASSES = {
  DynamoDBClient,
  DynamoDBDocumentClient,
  IAMClient,
  LambdaClient,
  S3Client,
  SecretsManagerClient,
  SNSClient,
  STSClient,
};

function resetWorker(): void {
  vi.unstubAllEnvs();
  for (const name of Object.keys(process.env)) if (!(name in startEnv)) delete process.env[name];
  Object.assign(process.env, startEnv);
  vi.restoreAllMocks();
  logger.setLogLevel(startLevel);
  resetPerFileState();
}

// Module level: vitest imports this file again before each test file, and before that file.
resetWorker();

afterAll(() => {
  resetWorker();
  const left: string[] = [];
  for (const [name, client] of Object.entries(CLIENT_CLASSES)) {
    const send = Object.getOwnPropertyDescriptor(client.prototype, 'send')?.value as
      | { restore?: () => void }
      | undefined;
    if (send === undefined) continue;
    left.push(name);
    send.restore?.();
    // A patch that cannot be undone is removed: the class's send is the one it inherits.
    if (Object.hasOwn(client.prototype, 'send'))
      delete (client.prototype as { send?: unknown }).send;
  }
  if (left.length > 0) {
    throw new Error(
      `this file left ${left.join(', ')} mocked (mockClient on the class); restore it in an afterAll so the next file in this worker talks to the real client`,
    );
  }
});
