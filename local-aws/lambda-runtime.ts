// The local Lambda's execution environments: each a worker thread running the runtime interface
// below with only the variables Lambda gives a function, one invocation at a time, the timeout
// enforced and every line the function writes filed under its request.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Environment, Invocation, LambdaOptions, LocalFunction } from './lambda-model.ts';

// The runtime interface inside each worker: loads the handler module once (the cold start),
// then runs one event per message. stdout/stderr go through the same port as the results, so
// an invocation's log lines arrive before its result and are filed under it.
const RUNTIME = `
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
for (const name of ['stdout', 'stderr']) {
  process[name].write = (chunk, encoding, done) => {
    parentPort.postMessage({ type: 'log', text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
    (typeof encoding === 'function' ? encoding : done)?.();
    return true;
  };
}
const { taskRoot, handler } = workerData;
let loaded;
async function load() {
  const dot = handler.lastIndexOf('.');
  const file = handler.slice(0, dot);
  const name = handler.slice(dot + 1);
  const found = ['.mjs', '.js', '.cjs'].map((ext) => join(taskRoot, file + ext)).find((p) => existsSync(p));
  if (dot < 1 || !found) {
    throw Object.assign(new Error("Cannot find module '" + file + "'"), { name: 'Runtime.ImportModuleError' });
  }
  const module = await import(pathToFileURL(found).href);
  const fn = module[name] ?? module.default?.[name];
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(file + '.' + name + ' is undefined or not exported'), { name: 'Runtime.HandlerNotFound' });
  }
  return fn;
}
parentPort.on('message', async ({ requestId, event, timeoutMs, context }) => {
  try {
    loaded ??= load();
    const fn = await loaded;
    // The init phase (loading the module) is over: the invoke phase, which the timeout limits, starts.
    const deadline = Date.now() + timeoutMs;
    parentPort.postMessage({ type: 'invoke' });
    const result = await fn(JSON.parse(event), {
      ...context,
      awsRequestId: requestId,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done() {}, fail() {}, succeed() {},
    });
    parentPort.postMessage({ type: 'result', payload: JSON.stringify(result ?? null) });
  } catch (error) {
    const report = {
      errorType: error?.name ?? typeof error,
      errorMessage: error?.message ?? String(error),
      trace: String(error?.stack ?? '').split('\\n'),
    };
    // As the Node.js runtime does: the error goes to the log too.
    console.error(new Date().toISOString() + '\\t' + requestId + '\\tERROR\\tInvoke Error \\t' + JSON.stringify(report));
    parentPort.postMessage({ type: 'error', report });
  }
});
`;

/** Runs one event on an idle environment of `fn`, starting one (a cold start) when none is idle. */
export async function run(
  options: LambdaOptions,
  fn: LocalFunction,
  event: string,
): Promise<Invocation> {
  const env = fn.environments.find((e) => !e.busy && !e.stale) ?? start(options, fn);
  const requestId = randomUUID();
  const log: string[] = [];
  env.busy = true;
  const write = (text: string) => {
    log.push(text);
    fn.logs.push({ at: options.clock.now(), requestId, text });
  };
  write(`START RequestId: ${requestId} Version: $LATEST\n`);
  const started = performance.now();
  const outcome = await new Promise<{ payload: string; functionError?: 'Unhandled' }>((resolve) => {
    // Lambda's timeout limits the invoke phase; loading the module is the init phase, with a
    // limit of its own (Lambda developer guide, lambda-runtime-environment.html), so a cold
    // start on a slow machine does not eat into the function's timeout.
    let timer: NodeJS.Timeout | undefined;
    const startTimer = () => {
      timer ??= setTimeout(() => {
        const message = `RequestId: ${requestId} Error: Task timed out after ${fn.timeout.toFixed(2)} seconds`;
        write(`${new Date().toISOString()} ${message}\n`);
        resolve({
          payload: JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: message }),
          functionError: 'Unhandled',
        });
        // A timed-out environment is not reused: whatever it was doing is cut off.
        env.stale = true;
        void retire(fn, env);
      }, fn.timeout * 1000);
    };
    const settle = (result: { payload: string; functionError?: 'Unhandled' }) => {
      clearTimeout(timer);
      resolve(result);
    };
    env.current = { requestId, log, settle, invoked: startTimer };
    env.worker.postMessage({
      requestId,
      event,
      timeoutMs: fn.timeout * 1000,
      context: {
        functionName: fn.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: fn.arn,
        memoryLimitInMB: String(fn.memorySize),
        logGroupName: `/aws/lambda/${fn.name}`,
        logStreamName: `${fn.name}/${env.worker.threadId}`,
      },
    });
  });
  env.current = undefined;
  env.busy = false;
  const ms = performance.now() - started;
  write(`END RequestId: ${requestId}\n`);
  write(
    `REPORT RequestId: ${requestId}\tDuration: ${ms.toFixed(2)} ms\tMemory Size: ${fn.memorySize} MB\n`,
  );
  if (env.stale) void retire(fn, env);
  return { requestId, ...outcome, log };
}

function start(options: LambdaOptions, fn: LocalFunction): Environment {
  const { region } = options;
  const worker = new Worker(join(fn.dir, 'runtime.mjs'), {
    workerData: { taskRoot: join(fn.dir, 'task'), handler: fn.handler },
    // Only what Lambda gives a function: its own variables and the runtime's, never the host's.
    env: {
      ...fn.variables,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      _HANDLER: fn.handler,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: 'local',
      AWS_ACCESS_KEY_ID: options.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey,
      LAMBDA_TASK_ROOT: join(fn.dir, 'task'),
    },
    execArgv: [],
    stdout: true,
    stderr: true,
  });
  const env: Environment = { worker, busy: false, stale: false };
  const capture = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    env.current?.log.push(text);
    fn.logs.push({ at: options.clock.now(), requestId: env.current?.requestId, text });
  };
  worker.stdout.on('data', capture);
  worker.stderr.on('data', capture);
  worker.on(
    'message',
    (message: { type: string; text?: string; payload?: string; report?: unknown }) => {
      if (message.type === 'log') {
        capture(Buffer.from(message.text ?? ''));
      } else if (message.type === 'invoke') {
        env.current?.invoked();
      } else if (message.type === 'result') {
        env.current?.settle({ payload: message.payload ?? 'null' });
      } else if (message.type === 'error') {
        env.current?.settle({
          payload: JSON.stringify(message.report),
          functionError: 'Unhandled',
        });
      }
    },
  );
  // A crash of the environment itself (process.exit, an uncaught exception in a timer).
  const crashed = (reason: string) => {
    env.stale = true;
    fn.environments = fn.environments.filter((e) => e !== env);
    env.current?.settle({
      payload: JSON.stringify({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${env.current.requestId} Error: ${reason}`,
      }),
      functionError: 'Unhandled',
    });
  };
  worker.on('error', (error) => crashed(`Runtime exited with error: ${error.message}`));
  worker.on('exit', (code) => crashed(`Runtime exited with error: exit status ${code}`));
  fn.environments.push(env);
  return env;
}

export async function retire(fn: LocalFunction, env: Environment): Promise<void> {
  fn.environments = fn.environments.filter((e) => e !== env);
  await env.worker.terminate();
}

/** Stops every execution environment of `fn` and removes its unpacked code. */
export async function remove(fn: LocalFunction): Promise<void> {
  await Promise.all(fn.environments.map((env) => retire(fn, env)));
  rmSync(fn.dir, { recursive: true, force: true });
}

/** Unpacks a function's code into a directory of its own, next to the runtime interface. */
export function install(name: string, files: Map<string, Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), `local-lambda-${name}-`));
  writeFileSync(join(dir, 'runtime.mjs'), RUNTIME);
  for (const [path, content] of files) {
    const target = join(dir, 'task', path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  mkdirSync(join(dir, 'task'), { recursive: true });
  return dir;
}
