// Serves handlers of this process to the local AWS's Lambda over loopback HTTP, so the endpoint
// (embedded, or a separately started `npm run serve`) invokes them as functions: Secrets Manager
// running a rotation function's steps, Invoke from an issuer adapter. The wire is the one
// local-aws/lambda-callback.ts documents: the event as the body, the result (or Lambda's error
// document with X-Amz-Function-Error) as the reply.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IAMClient } from '@aws-sdk/client-iam';
import { AddPermissionCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaContext } from '#local-aws/functions';
import type { FunctionHandler } from '#local-aws/index';
import { writeZip } from '#local-aws/zip';
import { createLambdaRole } from './lambda-role.ts';

export interface FunctionHost {
  /** The URL the endpoint forwards `name`'s invocations to; `handler` answers them. */
  serve(name: string, handler: FunctionHandler): string;
  stop(): Promise<void>;
}

export async function startFunctionHost(): Promise<FunctionHost> {
  const handlers = new Map<string, FunctionHandler>();
  const server: Server = createServer((req, res) => {
    void answer(req).then(({ body, failed }) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(failed && { 'x-amz-function-error': 'Unhandled' }),
      });
      res.end(body);
    });
  });
  async function answer(req: IncomingMessage): Promise<{ body: string; failed?: boolean }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://host').pathname.slice(1));
    const arn = String(req.headers['x-local-function-arn'] ?? name);
    try {
      const handler = handlers.get(name);
      if (!handler) throw new Error(`this test serves no function ${name}`);
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      // The 15 minutes Lambda allows at most: the endpoint enforces the function's own timeout.
      const result = await handler(
        event,
        lambdaContext(arn, String(req.headers['x-local-request-id'] ?? ''), 900_000),
      );
      return { body: JSON.stringify(result ?? null) };
    } catch (error) {
      // As Lambda's Node.js runtime reports a handler that threw: its name and message.
      const errorType = error instanceof Error ? error.name : 'Error';
      const errorMessage = error instanceof Error ? error.message : String(error);
      return { body: JSON.stringify({ errorType, errorMessage }), failed: true };
    }
  }
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    serve(name, handler) {
      handlers.set(name, handler);
      return `${base}/${encodeURIComponent(name)}`;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Placeholder code for a function served by a callback: it never runs while the callback is set. */
const PLACEHOLDER = writeZip({
  'index.mjs':
    "export const handler = async () => { throw new Error('this function is served by a test process callback'); };\n",
});

/**
 * Deploys `name` through the endpoint's own APIs as an account would hold it (an execution role
 * Lambda can assume, the function, and, with `invokedBy`, the resource policy that lets that
 * service invoke it), then has the endpoint forward its invocations to `serve`. Returns its ARN.
 */
export async function deployServedFunction(
  clientConfig: ClientConfig,
  serve: (name: string) => Promise<string>,
  name: string,
  options: { invokedBy?: string; timeoutSeconds?: number } = {},
): Promise<string> {
  const iam = new IAMClient(clientConfig);
  const lambda = new LambdaClient(clientConfig);
  try {
    const roleArn = await createLambdaRole(iam, `${name}-role`.slice(0, 64));
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: roleArn,
        Handler: 'index.handler',
        Timeout: options.timeoutSeconds ?? 900,
        Code: { ZipFile: PLACEHOLDER },
      }),
    );
    if (options.invokedBy) {
      await lambda.send(
        new AddPermissionCommand({
          FunctionName: name,
          StatementId: `${options.invokedBy.split('.')[0]}-invoke`,
          Action: 'lambda:InvokeFunction',
          Principal: options.invokedBy,
        }),
      );
    }
    return await serve(name);
  } finally {
    iam.destroy();
    lambda.destroy();
  }
}

interface ClientConfig {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}
