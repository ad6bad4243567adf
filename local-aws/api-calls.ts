// Every signed request the endpoint answered, named by the IAM action AWS would authorize it
// under (the Service Authorization Reference's action, which is not always the operation's name:
// S3 ListObjectVersions is s3:ListBucketVersions, Lambda Invoke is lambda:InvokeFunction). Tests
// hold an IAM policy to exactly the actions a path calls: the local AWS evaluates no policy.
import type { IncomingMessage } from 'node:http';
import { type Caller, readBody } from './wire.ts';

export interface ApiCall {
  /** `service:Action`, e.g. `dynamodb:Query`, `s3:GetObjectVersion`. */
  action: string;
  /** The access key that signed the request: whose call it was. */
  accessKeyId: string;
}

/** Off until a test starts it, so long runs (the benchmarks) keep no record of every call. */
export class ApiCallLog {
  readonly calls: ApiCall[] = [];
  private recording = false;

  /** Records every request from now on. */
  start(): void {
    this.recording = true;
  }

  /** The distinct actions the requests signed by `accessKeyId` needed, sorted. */
  actionsOf(accessKeyId: string): string[] {
    const actions = this.calls.filter((c) => c.accessKeyId === accessKeyId).map((c) => c.action);
    return [...new Set(actions)].sort();
  }

  /** Records `req` (reading a form-encoded body ahead of its handler, which reads it again). */
  async record(req: IncomingMessage, caller: Caller): Promise<void> {
    if (!this.recording) return;
    this.calls.push({ action: await actionOf(req, caller), accessKeyId: caller.accessKeyId });
  }
}

async function actionOf(req: IncomingMessage, caller: Caller): Promise<string> {
  const service = caller.service;
  const target = String(req.headers['x-amz-target'] ?? '');
  // JSON protocols: `X-Amz-Target: DynamoDB_20120810.Query`, `secretsmanager.ListSecrets`.
  if (target) return `${service}:${target.slice(target.lastIndexOf('.') + 1)}`;
  const type = String(req.headers['content-type'] ?? '');
  // Query protocol (IAM, STS, SNS, CloudFormation): `Action=` in the form body.
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const action = new URLSearchParams(await readBody(req)).get('Action');
    return `${service}:${action ?? '(no Action)'}`;
  }
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://local');
  if (service === 's3') return s3Action(method, url);
  if (
    service === 'lambda' &&
    method === 'POST' &&
    /\/functions\/[^/]+\/invocations$/.test(url.pathname)
  ) {
    return 'lambda:InvokeFunction';
  }
  return `${service}:(${method} ${url.pathname})`;
}

/** S3 REST (path-style) as its IAM action. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html */
function s3Action(method: string, url: URL): string {
  const [, , ...key] = url.pathname.split('/');
  const q = url.searchParams;
  const versioned = q.has('versionId');
  if (key.join('/') === '') {
    if (method === 'GET' && q.has('versions')) return 's3:ListBucketVersions';
    if (method === 'GET' && q.has('versioning')) return 's3:GetBucketVersioning';
    if (method === 'GET' && q.has('object-lock')) return 's3:GetBucketObjectLockConfiguration';
    if (method === 'GET') return 's3:ListBucket';
    if (method === 'PUT' && [...q.keys()].length === 0) return 's3:CreateBucket';
    return `s3:(${method} bucket ${[...q.keys()].join('&')})`;
  }
  if (q.has('retention'))
    return method === 'GET' ? 's3:GetObjectRetention' : 's3:PutObjectRetention';
  if (q.has('legal-hold'))
    return method === 'GET' ? 's3:GetObjectLegalHold' : 's3:PutObjectLegalHold';
  if (method === 'GET' || method === 'HEAD')
    return versioned ? 's3:GetObjectVersion' : 's3:GetObject';
  if (method === 'PUT') return 's3:PutObject';
  if (method === 'DELETE') return versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject';
  return `s3:(${method} object)`;
}
