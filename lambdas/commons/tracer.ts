// X-Ray tracing for every handler (the construct turns active tracing on): one Powertools tracer,
// a subsegment per invocation (commons/handler.ts) and every AWS SDK client captured
// (commons/clients.ts), so a slow or failing call shows in the trace with its service and
// operation. Outside Lambda (tests, the CLI) the tracer turns itself off.
import { Tracer } from '@aws-lambda-powertools/tracer';
import { POWERTOOLS_SERVICE_NAME } from './env-names.ts';

export const tracer = new Tracer({
  serviceName: process.env[POWERTOOLS_SERVICE_NAME] ?? 'token-rotation',
});

/** An SDK client whose calls are traced. */
export const traced = <T>(client: T): T => tracer.captureAWSv3Client(client);
