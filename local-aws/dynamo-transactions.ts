// DynamoDB in front of dynalite, which has no TransactWriteItems: every request is handed to
// dynalite one at a time (a transaction's writes and their undoing are then atomic to every other
// request), and TransactWriteItems is carried out as conditional writes of each item, undone in
// reverse when any condition fails, answered as DynamoDB answers it (CancellationReasons, with
// the item when ReturnValuesOnConditionCheckFailure is ALL_OLD; a repeated ClientRequestToken
// answers as the first time).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { readBody } from './wire.ts';

type Json = Record<string, unknown>;
type Item = Record<string, unknown>;
interface Answer {
  status: number;
  body: Json;
}

const API = 'DynamoDB_20120810';

/** Wraps dynalite's server as the endpoint's DynamoDB handler. */
export function dynamoWithTransactions(
  dynamo: Server,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };
  const call = (headers: IncomingMessage['headers'], operation: string, body: Json) =>
    forward(dynamo, headers, operation, JSON.stringify(body));
  const done = new Map<string, Answer>();
  const schemas = new Map<string, string[]>();
  return async (req, res) => {
    const body = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const answer = await serial(async () => {
      if (operation !== 'TransactWriteItems') {
        return forward(dynamo, req.headers, operation, body, req.method, req.url);
      }
      const input = JSON.parse(body || '{}') as Json;
      const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : '';
      const earlier = token ? done.get(token) : undefined;
      if (earlier) return earlier;
      const out = await transact(input, (op, data) => call(req.headers, op, data), schemas);
      if (token && out.status === 200) done.set(token, out);
      return out;
    });
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
}

/** One request through dynalite's own handler, without a socket. */
function forward(
  dynamo: Server,
  headers: IncomingMessage['headers'],
  operation: string,
  body: string,
  method = 'POST',
  url = '/',
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = Object.assign(new PassThrough(), {
      headers: { ...headers, 'x-amz-target': `${API}.${operation}` },
      method,
      url,
    });
    const sent: Record<string, unknown> = {};
    const res = {
      statusCode: 200,
      setHeader: (name: string, value: unknown) => {
        sent[name.toLowerCase()] = value;
      },
      end: (text?: string) => {
        let parsed: Json = {};
        try {
          parsed = text ? (JSON.parse(text) as Json) : {};
        } catch {
          parsed = { __type: 'InternalFailure', message: String(text) };
        }
        resolve({ status: res.statusCode, body: parsed });
      },
    };
    dynamo.emit('request', req, res);
    req.end(body);
  });
}

/** What a write did, so it can be undone: the table, its key, and the item before (if any). */
interface Done {
  table: string;
  key: Item;
  before: Item | undefined;
}

async function transact(
  input: Json,
  call: (operation: string, body: Json) => Promise<Answer>,
  schemas: Map<string, string[]>,
): Promise<Answer> {
  const actions = Array.isArray(input.TransactItems) ? (input.TransactItems as Json[]) : [];
  const undo: Done[] = [];
  const reasons: Json[] = [];
  let failed = false;
  for (const action of actions) {
    const [kind, spec] = Object.entries(action)[0] as [string, Json];
    const table = String(spec.TableName);
    const key = spec.Key
      ? (spec.Key as Item)
      : await keyOf(table, spec.Item as Item, call, schemas);
    const condition = {
      TableName: table,
      ...pick(spec, [
        'ConditionExpression',
        'ExpressionAttributeNames',
        'ExpressionAttributeValues',
      ]),
    };
    const write =
      kind === 'Put'
        ? call('PutItem', { ...condition, Item: spec.Item, ReturnValues: 'ALL_OLD' })
        : kind === 'Update'
          ? call('UpdateItem', {
              ...condition,
              Key: key,
              UpdateExpression: spec.UpdateExpression,
              ReturnValues: 'ALL_OLD',
            })
          : // Delete, and a ConditionCheck as a conditional delete put back below.
            call('DeleteItem', { ...condition, Key: key, ReturnValues: 'ALL_OLD' });
    const out = await write;
    if (out.status === 200) {
      const before = out.body.Attributes as Item | undefined;
      undo.push({ table, key, before });
      if (kind === 'ConditionCheck' && before) {
        await call('PutItem', { TableName: table, Item: before });
      }
      reasons.push({ Code: 'None' });
      continue;
    }
    if (!String(out.body.__type).endsWith('ConditionalCheckFailedException')) {
      await rollBack(undo, call);
      return out;
    }
    failed = true;
    const reason: Json = {
      Code: 'ConditionalCheckFailed',
      Message: 'The conditional request failed',
    };
    if (spec.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') {
      const now = await call('GetItem', { TableName: table, Key: key, ConsistentRead: true });
      if (now.body.Item) reason.Item = now.body.Item;
    }
    reasons.push(reason);
  }
  if (!failed) return { status: 200, body: {} };
  await rollBack(undo, call);
  return {
    status: 400,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      CancellationReasons: reasons,
    },
  };
}

async function rollBack(
  undo: Done[],
  call: (operation: string, body: Json) => Promise<Answer>,
): Promise<void> {
  for (const { table, key, before } of undo.reverse()) {
    await (before
      ? call('PutItem', { TableName: table, Item: before })
      : call('DeleteItem', { TableName: table, Key: key }));
  }
}

/** The item's key attributes, by the table's key schema (read once per table). */
async function keyOf(
  table: string,
  item: Item,
  call: (operation: string, body: Json) => Promise<Answer>,
  schemas: Map<string, string[]>,
): Promise<Item> {
  let names = schemas.get(table);
  if (!names) {
    const out = await call('DescribeTable', { TableName: table });
    const schema = (out.body.Table as { KeySchema?: { AttributeName: string }[] } | undefined)
      ?.KeySchema;
    names = (schema ?? []).map((part) => part.AttributeName);
    schemas.set(table, names);
  }
  return pick(item, names);
}

function pick(from: Json, names: string[]): Json {
  return Object.fromEntries(names.filter((name) => name in from).map((name) => [name, from[name]]));
}
