// The bundles' SDK is the installed SDK with less of it written out (infra/sdk-tree-shaking.mjs):
// the plugin still recognises the installed clients' files, and an AWS error reaches a bundled
// function with the name, message, fault, status and fields it has unbundled, which is all our
// code reads of it (lambdas/adapters/aws-errors.ts: by name, never by class).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '#local-aws/index';
import { bundleBuildOptions } from '../../infra/bundle-settings.ts';
import {
  literalSchemaKeys,
  retryableErrors,
  withoutErrorClasses,
} from '../../infra/sdk-tree-shaking.mjs';
import { awsErrorName } from '../../lambdas/adapters/aws-errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SDK = join(ROOT, 'node_modules', '@aws-sdk');
const clients = readdirSync(SDK).filter((name) => name.startsWith('client-'));
const read = (client: string, file: string) =>
  readFileSync(join(SDK, client, 'dist-es', file), 'utf8');

describe('the installed clients, as the plugin reads them', () => {
  it('leaves no computed trait key in any client schema, so esbuild can drop unused shapes', () => {
    expect(clients.length).toBeGreaterThan(5);
    for (const client of clients) {
      const before = read(client, 'schemas/schemas_0.js');
      expect(before, client).toMatch(/[{,]\s*\[_\w+\]:/);
      expect(literalSchemaKeys(before), client).not.toMatch(/[{,]\s*\[_\w+\]:/);
    }
  });

  it('keeps registered only the error classes the SDK retries by class, and the base exception', () => {
    // Prepare
    const errors = read('client-dynamodb', 'models/errors.js');
    const schemas = read('client-dynamodb', 'schemas/schemas_0.js');

    // Act
    const keep = retryableErrors(errors);
    const lean = withoutErrorClasses(schemas, keep);

    // Assess
    expect([...keep]).toEqual(['ReplicatedWriteConflictException']);
    const registered = [...lean.matchAll(/registerError\(\w+\$, (\w+)\)/g)].map((m) => m[1]);
    expect(registered.sort()).toEqual([
      'DynamoDBServiceException',
      'ReplicatedWriteConflictException',
    ]);
    expect(lean).toContain('import { ReplicatedWriteConflictException } from "../models/errors";');
    expect([...schemas.matchAll(/registerError\(/g)].length).toBeGreaterThan(20);
  });

  it('leaves a schemas file of another layout unchanged', () => {
    const other = 'import { A } from "./errors";\nn0_registry.registerError(A$, A);\n';
    expect(withoutErrorClasses(other, new Set())).toBe(other);
  });
});

describe('our code', () => {
  it('imports no AWS error class: it tells errors apart by name (adapters/aws-errors.ts)', () => {
    const sources = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? sources(join(dir, entry.name))
          : entry.name.endsWith('.ts')
            ? [join(dir, entry.name)]
            : [],
      );
    const imported = sources('lambdas').flatMap((file) =>
      [
        ...readFileSync(join(ROOT, file), 'utf8').matchAll(
          /import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-[\w-]+'/g,
        ),
      ].flatMap(([, names]) =>
        names!
          .split(',')
          .map((name) => name.trim())
          .filter((name) => /(Exception|Error)$/.test(name) && !name.startsWith('type '))
          .map((name) => `${file}: ${name}`),
      ),
    );
    expect(imported).toEqual([]);
  });
});

/** Calls that fail, made by `run` of the bundled module with `config` (the local AWS). */
const FAILING_CALLS = `
import { DynamoDBClient, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
const caught = (promise) => promise.then(() => undefined, (error) => error);
export async function run(config, table) {
  return {
    dynamo: await caught(new DynamoDBClient(config).send(new TransactWriteItemsCommand({
      TransactItems: [{ Put: {
        TableName: table, Item: { pk: { S: 'a' }, sk: { S: 'b' } },
        ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      } }],
    }))),
    secrets: await caught(new SecretsManagerClient(config).send(new GetSecretValueCommand({ SecretId: 'no-such-secret' }))),
    iam: await caught(new IAMClient(config).send(new GetUserCommand({ UserName: 'no-such-user' }))),
    canceledClass: TransactionCanceledException,
  };
}`;

describe('an AWS error, through a bundled client', () => {
  let local: LocalAws;
  let dir: string;
  let table: string;

  beforeAll(async () => {
    local = await startLocalAws();
    dir = mkdtempSync(join(tmpdir(), 'sdk-tree-shaking-'));
    const { entryPoints: _, ...options } = bundleBuildOptions('', dir);
    const { outputFiles } = await build({
      ...options,
      splitting: false,
      sourcemap: false,
      stdin: { contents: FAILING_CALLS, resolveDir: ROOT, loader: 'js' },
      write: false,
    });
    for (const file of outputFiles) writeFileSync(file.path, file.contents);
    // The same calls with the installed SDK, unbundled, resolved from the project.
    writeFileSync(
      join(dir, 'unbundled.mjs'),
      FAILING_CALLS.replace(/'(@aws-sdk\/[\w-]+)'/g, (_, name) => `'${import.meta.resolve(name)}'`),
    );
    table = `tree-shaking-${Date.now().toString(36)}`;
    const { DynamoDBClient, CreateTableCommand, PutItemCommand } = await import(
      '@aws-sdk/client-dynamodb'
    );
    const dynamo = new DynamoDBClient(local.clientConfig);
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await dynamo.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' }, sk: { S: 'b' } } }),
    );
  });

  afterAll(async () => {
    await local?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has the name, fault, status and fields the unbundled SDK gives it', async () => {
    // Prepare
    const bundled = await import(pathToFileURL(join(dir, 'stdin.mjs')).href);
    const unbundled = await import(pathToFileURL(join(dir, 'unbundled.mjs')).href);

    // Act
    const errors = await bundled.run(local.clientConfig, table);
    const expected = await unbundled.run(local.clientConfig, table);

    // Assess
    for (const call of ['dynamo', 'secrets', 'iam'] as const) {
      expect(seen(errors[call]), call).toEqual(seen(expected[call]));
    }
    expect(seen(errors.dynamo).name).toBe('TransactionCanceledException');
    expect(seen(errors.secrets).name).toBe('ResourceNotFoundException');
    expect(seen(errors.iam).name).toBe('NoSuchEntity');
    // What the audit log reads of a refused transaction: the reasons, with the item as it is.
    expect(expected.dynamo.CancellationReasons).toMatchObject([
      { Code: 'ConditionalCheckFailed', Item: { pk: { S: 'a' }, sk: { S: 'b' } } },
    ]);
    expect(errors.dynamo.CancellationReasons).toEqual(expected.dynamo.CancellationReasons);
    // The class is not what the bundled SDK throws: code that compared classes would miss it.
    expect(expected.dynamo).toBeInstanceOf(expected.canceledClass);
    expect(errors.dynamo).not.toBeInstanceOf(errors.canceledClass);
  });
});

type AwsError = Error & { $fault?: string; $metadata?: { httpStatusCode?: number } };

/** What our code reads of an AWS error (lambdas/adapters/aws-errors.ts). */
const seen = (error: AwsError) => ({
  name: awsErrorName(error),
  message: error.message,
  fault: error.$fault,
  status: error.$metadata?.httpStatusCode,
});
