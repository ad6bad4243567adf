// A tiny CloudFormation: DescribeStacks over the Query protocol, answering with the stacks
// registered here, so the operator CLI finds "the stack" and its outputs by name on the
// embedded local AWS exactly as it does in an account.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalClock } from './clock.ts';
import { AwsError, type Caller, queryParams, readBody, sendQuery, sendQueryError } from './wire.ts';

const XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

export interface StackOutput {
  value: string;
  description?: string;
}

interface LocalStack {
  name: string;
  id: string;
  created: Date;
  outputs: Map<string, StackOutput>;
}

export class CloudFormationEmulator {
  private readonly stacks = new Map<string, LocalStack>();

  constructor(private readonly options: { region: string; accountId: string; clock: LocalClock }) {}

  /** Creates the stack (CREATE_COMPLETE) if needed and sets these outputs on it. Returns its ID. */
  putStack(name: string, outputs: Record<string, string | StackOutput>): string {
    let stack = this.stacks.get(name);
    if (!stack) {
      const { region, accountId, clock } = this.options;
      stack = {
        name,
        id: `arn:aws:cloudformation:${region}:${accountId}:stack/${name}/${randomUUID()}`,
        created: clock.now(),
        outputs: new Map(),
      };
      this.stacks.set(name, stack);
    }
    for (const [key, output] of Object.entries(outputs)) {
      stack.outputs.set(key, typeof output === 'string' ? { value: output } : output);
    }
    return stack.id;
  }

  /** What `cdk destroy` would leave: no stack of that name. */
  deleteStack(name: string): void {
    this.stacks.delete(name);
  }

  readonly handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    _caller?: Caller,
  ): Promise<void> => {
    try {
      const params = queryParams(await readBody(req));
      const action = params.get('Action') ?? '';
      if (action !== 'DescribeStacks') {
        throw new AwsError(
          'InvalidAction',
          `The local CloudFormation serves DescribeStacks only, not '${action}'.`,
        );
      }
      sendQuery(res, action, XMLNS, this.describeStacks(params.get('StackName')));
    } catch (error) {
      const aws =
        error instanceof AwsError ? error : new AwsError('InternalFailure', String(error), 500);
      sendQueryError(res, aws, XMLNS);
    }
  };

  private describeStacks(nameOrId: string | undefined) {
    let found: LocalStack[];
    if (nameOrId) {
      const stack = [...this.stacks.values()].find((s) => s.name === nameOrId || s.id === nameOrId);
      // What CloudFormation answers for a stack that does not exist (or was deleted).
      if (!stack) throw new AwsError('ValidationError', `Stack with id ${nameOrId} does not exist`);
      found = [stack];
    } else {
      found = [...this.stacks.values()];
    }
    return {
      Stacks: found.map((stack) => ({
        StackId: stack.id,
        StackName: stack.name,
        CreationTime: stack.created,
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [...stack.outputs].map(([key, output]) => ({
          OutputKey: key,
          OutputValue: output.value,
          Description: output.description,
        })),
      })),
    };
  }
}

const installed = new WeakMap<object, CloudFormationEmulator>();

/** The local AWS's CloudFormation, registered with `addService` on first use (one per local AWS). */
export function cloudFormationOf(aws: {
  region: string;
  accountId: string;
  clock: LocalClock;
  addService(service: string, handler: CloudFormationEmulator['handle']): void;
}): CloudFormationEmulator {
  let cloudFormation = installed.get(aws);
  if (!cloudFormation) {
    cloudFormation = new CloudFormationEmulator(aws);
    aws.addService('cloudformation', cloudFormation.handle);
    installed.set(aws, cloudFormation);
  }
  return cloudFormation;
}
