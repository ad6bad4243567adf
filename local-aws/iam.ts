// An in-memory IAM (users, their tags and access keys) and STS GetCallerIdentity, speaking the Query
// protocol that @aws-sdk/client-iam and client-sts 3.1164.0 send. As on AWS: two access keys per
// user (LimitExceeded), 50 tags per user with keys unique regardless of case, and STS refuses
// unknown, inactive and deleted keys. An optional consistency
// delay makes a key refused for a while after it is created or changed, as IAM's propagation does.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalClock } from './clock.ts';
import { IamPolicies } from './iam-policies.ts';
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
/** IAM quota: tags per user. */
const TAGS_PER_USER = 50;
// IAM's tag patterns: keys 1 to 128, values 0 to 256 of letters, digits, spaces and _.:/=+-@.
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  status: 'Active' | 'Inactive';
  created: Date;
  /** Last creation or status change: STS refuses the key until the consistency delay has passed it. */
  changed: Date;
  /** The last request the key signed that was accepted (GetAccessKeyLastUsed). */
  lastUsed?: { at: Date; service: string; region: string };
}

interface User {
  name: string;
  path: string;
  userId: string;
  arn: string;
  created: Date;
  /** In the order added; a key differing only in case replaces the tag, as IAM does for users. */
  tags: Array<{ key: string; value: string }>;
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

/** `Tags.member.N.Key` / `.Value` of a Query request, as a record. */
function tagParams(params: Map<string, string>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let n = 1; params.has(`Tags.member.${n}.Key`); n++) {
    tags[params.get(`Tags.member.${n}.Key`) ?? ''] = params.get(`Tags.member.${n}.Value`) ?? '';
  }
  return tags;
}

/** `<name>.member.N` of a Query request. */
function memberList(params: Map<string, string>, name: string): string[] {
  const items: string[] = [];
  for (let n = 1; params.has(`${name}.member.${n}`); n++)
    items.push(params.get(`${name}.member.${n}`) ?? '');
  return items;
}

/** Adds or replaces tags as IAM does for users: keys are unique regardless of case, 50 at most. */
function addTags(user: User, tags: Record<string, string>): void {
  for (const [key, value] of Object.entries(tags)) {
    if (!TAG_KEY.test(key) || !TAG_VALUE.test(value)) {
      throw validation(
        `1 validation error detected: the tag ${key} does not fit IAM's tag pattern`,
      );
    }
  }
  const next = [...user.tags];
  for (const [key, value] of Object.entries(tags)) {
    const same = next.findIndex((tag) => tag.key.toLowerCase() === key.toLowerCase());
    if (same >= 0) next[same] = { key, value };
    else next.push({ key, value });
  }
  if (next.length > TAGS_PER_USER) {
    throw new AwsError(
      'LimitExceeded',
      `Cannot exceed quota for TagsPerUser: ${TAGS_PER_USER}`,
      409,
    );
  }
  user.tags = next;
}

export class IamEmulator {
  /** Every IAM and STS request, oldest first. */
  readonly calls: IamCall[] = [];
  /** Settable by tests: how long a new or changed key is refused by STS. */
  consistencyDelayMs: number;
  private readonly users = new Map<string, User>();
  /** What users may do: their policies, groups and the managed policies (iam-policies.ts). */
  readonly policies: IamPolicies;
  /** Roles by name: Lambda refuses a function whose execution role is not here. */
  private readonly roles = new Map<
    string,
    { arn: string; roleId: string; created: Date; trust: string; policies: Map<string, string> }
  >();

  constructor(private readonly options: IamEmulatorOptions) {
    this.consistencyDelayMs = options.consistencyDelayMs ?? 0;
    this.policies = new IamPolicies(options, (name) => this.user(name).name);
  }

  /** Whether a role of this ARN exists (Lambda's CreateFunction asks). */
  roleExists(arn: string): boolean {
    return this.roles.get(arn.split('/').at(-1) ?? '')?.arn === arn;
  }

  /** Creates a role directly (test setup; the IAM API's CreateRole does the same). */
  createRole(name: string, trust = '{}'): string {
    if (!/^[\w+=,.@-]{1,64}$/.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      );
    }
    if (this.roles.has(name)) {
      throw new AwsError('EntityAlreadyExists', `Role with name ${name} already exists.`, 409);
    }
    const arn = `arn:aws:iam::${this.options.accountId}:role/${name}`;
    this.roles.set(name, {
      arn,
      roleId: `AROA${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`,
      created: this.options.clock.now(),
      trust,
      policies: new Map(),
    });
    return arn;
  }

  private describeRole(name: string | undefined): XmlValue {
    const role = this.roles.get(name ?? '');
    if (!role) {
      throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
    }
    return {
      Path: '/',
      RoleName: name,
      RoleId: role.roleId,
      Arn: role.arn,
      CreateDate: role.created,
      AssumeRolePolicyDocument: encodeURIComponent(role.trust),
    };
  }

  /** A user's keys as IAM holds them (secrets included, for test setup and assertions). */
  keysOf(userName: string): AccessKeyRecord[] {
    const user = this.users.get(userName);
    if (!user) throw noUser(userName);
    return [...user.keys.values()].map((key) => ({ ...key }));
  }

  /** Test setup: a user, as CreateUser (with its Tags) makes one. */
  createUser(userName: string, path = '/', tags: Record<string, string> = {}): { arn: string } {
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
      tags: [],
      keys: new Map(),
    };
    addTags(user, tags);
    this.users.set(userName, user);
    return { arn: user.arn };
  }

  /** Test setup: TagUser (adds, or replaces a tag whose key differs at most in case). */
  tagUser(userName: string, tags: Record<string, string>): void {
    addTags(this.user(userName), tags);
  }

  /** A user's tags as IAM holds them. */
  tagsOf(userName: string): Record<string, string> {
    return Object.fromEntries(this.user(userName).tags.map((tag) => [tag.key, tag.value]));
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
    if (action.includes('AccessKey')) return this.accessKeyAction(action, params);
    if (action.includes('Role')) return this.roleAction(action, params);
    if (action.includes('Polic') || action.includes('Group')) {
      return this.policies.action(action, params);
    }
    return this.userAction(action, params);
  }

  private userAction(action: string, params: Map<string, string>): XmlValue {
    const userName = params.get('UserName');
    switch (action) {
      case 'CreateUser': {
        this.createUser(userName ?? '', params.get('Path') ?? '/', tagParams(params));
        return { User: this.describeUser(this.user(userName)) };
      }
      case 'GetUser':
        return { User: this.describeUser(this.user(userName)) };
      case 'TagUser': {
        this.tagUser(userName ?? '', tagParams(params));
        return undefined;
      }
      case 'UntagUser': {
        const user = this.user(userName);
        const gone = new Set(memberList(params, 'TagKeys').map((key) => key.toLowerCase()));
        user.tags = user.tags.filter((tag) => !gone.has(tag.key.toLowerCase()));
        return undefined;
      }
      case 'ListUserTags': {
        // One page holds every tag: a user has at most 50, and MaxItems defaults to 100.
        const user = this.user(userName);
        return {
          Tags: user.tags.map((tag) => ({ Key: tag.key, Value: tag.value })),
          IsTruncated: false,
        };
      }
      default:
        throw unknownAction(action);
    }
  }

  private accessKeyAction(action: string, params: Map<string, string>): XmlValue {
    const userName = params.get('UserName');
    switch (action) {
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
      // https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html: a key
      // never used has no LastUsedDate and "N/A" as its service and region.
      case 'GetAccessKeyLastUsed': {
        const [user, key] = this.key(params.get('AccessKeyId'), undefined);
        const used = key.lastUsed;
        return {
          UserName: user.name,
          AccessKeyLastUsed: {
            ...(used && { LastUsedDate: used.at }),
            ServiceName: used?.service ?? 'N/A',
            Region: used?.region ?? 'N/A',
          },
        };
      }
      case 'DeleteAccessKey': {
        const [user, key] = this.key(params.get('AccessKeyId'), userName);
        user.keys.delete(key.accessKeyId);
        return undefined;
      }
      default:
        throw unknownAction(action);
    }
  }

  private roleAction(action: string, params: Map<string, string>): XmlValue {
    switch (action) {
      case 'CreateRole': {
        const name = params.get('RoleName') ?? '';
        this.createRole(name, params.get('AssumeRolePolicyDocument') ?? '{}');
        return { Role: this.describeRole(name) };
      }
      case 'GetRole':
        return { Role: this.describeRole(params.get('RoleName')) };
      case 'DeleteRole': {
        this.describeRole(params.get('RoleName'));
        // IAM refuses to delete a role that still has policies ("DeleteConflict").
        if (this.roles.get(params.get('RoleName')!)!.policies.size > 0) {
          throw new AwsError(
            'DeleteConflict',
            'Cannot delete entity, must delete policies first.',
            409,
          );
        }
        this.roles.delete(params.get('RoleName')!);
        return undefined;
      }
      case 'PutRolePolicy': {
        this.describeRole(params.get('RoleName'));
        const role = this.roles.get(params.get('RoleName')!)!;
        role.policies.set(params.get('PolicyName') ?? '', params.get('PolicyDocument') ?? '{}');
        return undefined;
      }
      case 'DeleteRolePolicy': {
        this.describeRole(params.get('RoleName'));
        const role = this.roles.get(params.get('RoleName')!)!;
        const name = params.get('PolicyName') ?? '';
        if (!role.policies.delete(name)) {
          throw new AwsError(
            'NoSuchEntity',
            `The role policy with name ${name} cannot be found.`,
            404,
          );
        }
        return undefined;
      }
      default:
        throw unknownAction(action);
    }
  }

  private describeUser(user: User): XmlValue {
    return {
      Path: user.path,
      UserName: user.name,
      UserId: user.userId,
      Arn: user.arn,
      CreateDate: user.created,
      ...(user.tags.length > 0 && {
        Tags: user.tags.map((tag) => ({ Key: tag.key, Value: tag.value })),
      }),
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
      key.lastUsed = {
        at: this.options.clock.now(),
        service: 'sts',
        region: caller?.region || 'us-east-1',
      };
      return { UserId: user.userId, Account: account, Arn: user.arn };
    }
    throw refused;
  }
}

const unknownAction = (action: string) =>
  new AwsError('InvalidAction', `Could not find operation ${action} for version 2010-05-08`);
