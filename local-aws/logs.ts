// CloudWatch Logs, as far as a test reads what a function wrote: FilterLogEvents on the log group
// Lambda gives each function (/aws/lambda/<function name>), for the functions deployed through the
// Lambda service (lambda-runtime.ts files each line under its invocation) and those registered in
// process (the suite's handlers: functions.ts files what they write while they run).
// API reference: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
// Not modelled: log streams by name, interleaved, metric filters, the filter pattern's JSON and
// space-delimited forms (a pattern here is terms that must all appear, or one "quoted phrase").
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionRegistry } from './functions.ts';
import type { LogLine } from './lambda-model.ts';
import { AwsError, readBody, sendJson, sendJsonError } from './wire.ts';

const GROUP = /^\/aws\/lambda\/([A-Za-z0-9_-]{1,64})$/;
/** FilterLogEvents' largest page (its `limit`: "The default is 10,000 log events"). */
const MAX_EVENTS = 10_000;

interface Sources {
  functions: Pick<FunctionRegistry, 'has' | 'logsOf'>;
  lambda: { has(name: string): boolean; logsOf(name: string): LogLine[] };
}

/** The `logs` service: FilterLogEvents over the functions' log groups. */
export function logsService(sources: Sources) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.lastIndexOf('.') + 1);
      const input = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
      if (operation !== 'FilterLogEvents') {
        throw new AwsError(
          'UnknownOperationException',
          `The local AWS's CloudWatch Logs answers FilterLogEvents only, not ${operation || '(no X-Amz-Target)'}`,
        );
      }
      sendJson(res, 200, filterLogEvents(sources, input));
    } catch (error) {
      if (error instanceof AwsError) sendJsonError(res, error);
      else if (error instanceof SyntaxError)
        sendJsonError(res, new AwsError('SerializationException', error.message));
      else throw error;
    }
  };
}

function filterLogEvents(sources: Sources, input: Record<string, unknown>) {
  const group = String(input.logGroupName ?? input.logGroupIdentifier ?? '');
  const name = GROUP.exec(group)?.[1];
  if (!name || !(sources.functions.has(name) || sources.lambda.has(name))) {
    throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
  }
  const lines = sources.lambda.has(name)
    ? sources.lambda.logsOf(name)
    : sources.functions.logsOf(name);
  const start = typeof input.startTime === 'number' ? input.startTime : -Infinity;
  const end = typeof input.endTime === 'number' ? input.endTime : Infinity;
  const matches = matcher(typeof input.filterPattern === 'string' ? input.filterPattern : '');
  const limit = Math.min(typeof input.limit === 'number' ? input.limit : MAX_EVENTS, MAX_EVENTS);
  const from = Number(input.nextToken ?? 0) || 0;
  const selected = lines
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => {
      const at = line.at.getTime();
      return at >= start && at <= end && matches(line.text);
    });
  const page = selected.filter(({ index }) => index >= from).slice(0, limit);
  const last = page.at(-1);
  const more = last !== undefined && selected.some(({ index }) => index > last.index);
  return {
    events: page.map(({ line, index }) => ({
      logStreamName: `local/[$LATEST]${line.requestId ?? 'init'}`,
      timestamp: line.at.getTime(),
      ingestionTime: line.at.getTime(),
      message: line.text,
      eventId: String(index).padStart(20, '0'),
    })),
    searchedLogStreams: [],
    ...(more && { nextToken: String(last.index + 1) }),
  };
}

/** A filter pattern: every term must appear in the message, or the one "quoted phrase". */
function matcher(pattern: string): (text: string) => boolean {
  const trimmed = pattern.trim();
  if (trimmed === '') return () => true;
  const phrase = /^"(.*)"$/.exec(trimmed)?.[1];
  const terms = phrase !== undefined ? [phrase] : trimmed.split(/\s+/);
  return (text) => terms.every((term) => text.includes(term));
}
