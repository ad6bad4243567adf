// An in-memory IAM (users and access keys) and STS GetCallerIdentity, speaking the Query protocol
// that @aws-sdk/client-iam and client-sts 3.1164.0 send. As on AWS: two access keys per user
// (LimitExceeded), and STS refuses unknown, inactive and deleted keys. An optional consistency
// delay makes a key refused for a while after it is created or changed, as IAM's propagation does.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalClock } from './clock.ts';
import {
  AwsError,
  type Caller,
  queryParams,
  readBody,
  sendQuery,
  sendQueryError,
  type XmlValue,
} from './wire.ts';

const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** IAM quota AccessKeysPerUser. */
const KEYS_PER_USER = 2;
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const PATH = /^\/([\x21-\x7e]{1,510}\/)?$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  status: 'Active' | 'Inactive';
  created: Date;
  /** Last creation or status change: STS refuses the key until the consistency delay has passed it. */
  changed: Date;
}

interface User {
  name: string;
  path: string;
  userId: string;
  arn: string;
  created: Date;
  keys: Map<string, AccessKeyRecord>;
}

export interface IamCall {
  service: 'iam' | 'sts';
  action: string;
  /** The access key that signed the request. */
  accessKeyId: string;
}

export interface IamEmulatorOptions {
  accountId: string;
  clock: LocalClock;
  /** Keys STS accepts as the local AWS's own principal (the credentials handlers use). */
  trustedKeys?: string[];
  /** How long (local clock) a new or changed key is refused by STS. Default 0. */
  consistencyDelayMs?: number;
}

const noUser = (name: string) =>
  new AwsError('NoSuchEntity', `The user with name ${name} cannot be found.`, 404);
const noKey = (id: string) =>
  new AwsError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`, 404);
const validation = (message: string) => new AwsError('ValidationError', message);

function newAccessKeyId(): string {
  const bytes = randomBytes(16);
  return `AKIA${[...bytes].map((b) => BASE32[b % 32]).join('')}`;
}

export class IamEmulator {
  /** Every IAM and STS request, oldest first. */
  readonly calls: IamCall[] = [];
  /** Settable by tests: how long a new or changed key is refused by STS. */
  consistencyDelayMs: number;
  private readonly users = new Map<string, User>();

  constructor(private readonly options: IamEmulatorOptions) {
    this.consistencyDelayMs = options.consistencyDelayMs ?? 0;
  }

  /** A user's keys as IAM holds them (secrets included, for test setup and assertions). */
  keysOf(userName: string): AccessKeyRecord[] {
    const user = this.users.get(userName);
    if (!user) throw noUser(userName);
    return [...user.keys.values()].map((key) => ({ ...key }));
  }

  /** Test setup: a user, as CreateUser makes one. */
  createUser(userName: string, path = '/'): { arn: string } {
    if (!USER_NAME.test(userName)) throw validation(`Invalid user name: ${userName}`);
    if (!PATH.test(path)) throw validation(`Invalid path: ${path}`);
    if (this.users.has(userName)) {
      throw new AwsError('EntityAlreadyExists', `User with name ${userName} already exists.`, 409);
    }
    const user: User = {
      name: userName,
      path,
      userId: `AIDA${newAccessKeyId().slice(4)}`,
      arn: `arn:aws:iam::${this.options.accountId}:user${path}${userName}`,
      created: this.options.clock.now(),
      keys: new Map(),
    };
    this.users.set(userName, user);
    return { arn: user.arn };
  }

  /** Test setup: a key, as CreateAccessKey makes one (limit enforced). */
  createAccessKey(userName: string): AccessKeyRecord {
    const user = this.user(userName);
    if (user.keys.size >= KEYS_PER_USER) {
      throw new AwsError(
        'LimitExceeded',
        `Cannot exceed quota for AccessKeysPerUser: ${KEYS_PER_USER}`,
        409,
      );
    }
    const now = this.options.clock.now();
    const key: AccessKeyRecord = {
      accessKeyId: newAccessKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      status: 'Active',
      created: now,
      changed: now,
    };
    user.keys.set(key.accessKeyId, key);
    return { ...key };
  }

  readonly handleIam = (req: IncomingMessage, res: ServerResponse, caller?: Caller) =>
    this.serve('iam', IAM_XMLNS, req, res, caller, (action, params) => this.iam(action, params));

  readonly handleSts = (req: IncomingMessage, res: ServerResponse, caller?: Caller) =>
    this.serve('sts', STS_XMLNS, req, res, caller, (action) => this.sts(action, caller));

  private async serve(
    service: 'iam' | 'sts',
    xmlns: string,
    req: IncomingMessage,
    res: ServerResponse,
    caller: Caller | undefined,
    call: (action: string, params: Map<string, string>) => XmlValue,
  ): Promise<void> {
    let action = 'Unknown';
    try {
      const params = queryParams(await readBody(req));
      action = params.get('Action') ?? '';
      this.calls.push({ service, action, accessKeyId: caller?.accessKeyId ?? '' });
      sendQuery(res, action, xmlns, call(action, params));
    } catch (error) {
      const aws =
        error instanceof AwsError ? error : new AwsError('ServiceFailure', String(error), 500);
      sendQueryError(res, aws, xmlns);
    }
  }

  private user(name: string | undefined): User {
    if (!name) throw validation('1 validation error detected: UserName must not be null');
    const user = this.users.get(name);
    if (!user) throw noUser(name);
    return user;
  }

  /** The key and its owner; `userName` (when given) must be that owner. */
  private key(id: string | undefined, userName: string | undefined): [User, AccessKeyRecord] {
    if (!id) throw validation('1 validation error detected: AccessKeyId must not be null');
    const owners = userName ? [this.user(userName)] : [...this.users.values()];
    for (const user of owners) {
      const key = user.keys.get(id);
      if (key) return [user, key];
    }
    throw noKey(id);
  }

  private iam(action: string, params: Map<string, string>): XmlValue {
    const userName = params.get('UserName');
    switch (action) {
      case 'CreateUser': {
        this.createUser(userName ?? '', params.get('Path') ?? '/');
        return { User: this.describeUser(this.user(userName)) };
      }
      case 'GetUser':
        return { User: this.describeUser(this.user(userName)) };
      case 'ListAccessKeys': {
        const user = this.user(userName);
        return {
          AccessKeyMetadata: [...user.keys.values()].map((key) => ({
            UserName: user.name,
            AccessKeyId: key.accessKeyId,
            Status: key.status,
            CreateDate: key.created,
          })),
          IsTruncated: false,
        };
      }
      case 'CreateAccessKey': {
        const key = this.createAccessKey(userName ?? '');
        return {
          AccessKey: {
            UserName: userName,
            AccessKeyId: key.accessKeyId,
            Status: key.status,
            SecretAccessKey: key.secretAccessKey,
            CreateDate: key.created,
          },
        };
      }
      case 'UpdateAccessKey': {
        const status = params.get('Status');
        if (status !== 'Active' && status !== 'Inactive') {
          throw validation(
            `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
          );
        }
        const [, key] = this.key(params.get('AccessKeyId'), userName);
        if (key.status !== status) {
          key.status = status;
          key.changed = this.options.clock.now();
        }
        return undefined;
      }
      case 'DeleteAccessKey': {
        const [user, key] = this.key(params.get('AccessKeyId'), userName);
        user.keys.delete(key.accessKeyId);
        return undefined;
      }
      default:
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${action} for version 2010-05-08`,
        );
    }
  }

  private describeUser(user: User): XmlValue {
    return {
      Path: user.path,
      UserName: user.name,
      UserId: user.userId,
      Arn: user.arn,
      CreateDate: user.created,
    };
  }

  private sts(action: string, caller: Caller | undefined): XmlValue {
    if (action !== 'GetCallerIdentity') {
      throw new AwsError(
        'InvalidAction',
        `Could not find operation ${action} for version 2011-06-15`,
      );
    }
    const id = caller?.accessKeyId ?? '';
    const account = this.options.accountId;
    if (this.options.trustedKeys?.includes(id)) {
      return {
        UserId: 'AROALOCALAWS:local',
        Account: account,
        Arn: `arn:aws:sts::${account}:assumed-role/local-aws/local`,
      };
    }
    const refused = new AwsError(
      'InvalidClientTokenId',
      'The security token included in the request is invalid.',
      403,
    );
    for (const user of this.users.values()) {
      const key = user.keys.get(id);
      if (!key) continue;
      const settled = key.changed.getTime() + this.consistencyDelayMs;
      if (key.status !== 'Active' || this.options.clock.now().getTime() < settled) throw refused;
      return { UserId: user.userId, Account: account, Arn: user.arn };
    }
    throw refused;
  }
}
