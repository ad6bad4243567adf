// Systems Manager Automation for the embedded local AWS: runs an Automation document (as the
// template ships it, references resolved) the way Systems Manager does, for the step types the
// suite's runbooks use and no others, so a runbook's real steps run in tests:
//   - StartAutomationExecution checks the parameters against the document (unknown, missing,
//     not in allowedValues), fills defaults, records ExecutedBy (the caller's principal) and
//     runs mainSteps in order; GetAutomationExecution answers while it runs (InProgress) and after.
//   - `{{ Name }}` in a step's inputs is replaced by the parameter's text as is (no JSON escaping,
//     as in Systems Manager), `{{ automation:EXECUTION_ID }}` by the execution's ID.
//   - aws:invokeLambdaFunction invokes the function on the local Lambda with its Payload; a
//     Payload that is not JSON, or a function error, fails the step, and `onFailure: Abort`
//     (the default) fails the execution with the step's message.
// Register it with `local.addService('ssm', automation.handle)`.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalClock } from './clock.ts';
import type { LambdaEmulator } from './lambda.ts';
import { AwsError, type Caller, readBody, sendJson, sendJsonError } from './wire.ts';

/** The step types this runner knows; a document with any other is refused when registered. */
export const AUTOMATION_ACTIONS = ['aws:invokeLambdaFunction'] as const;

interface Parameter {
  type?: string;
  default?: unknown;
  allowedValues?: string[];
}

interface Step {
  name: string;
  action: string;
  onFailure?: string;
  inputs?: Record<string, unknown>;
}

/** An Automation document's content (schemaVersion 0.3), every CloudFormation reference resolved. */
export interface AutomationContent {
  schemaVersion: string;
  assumeRole?: string;
  parameters?: Record<string, Parameter>;
  mainSteps: Step[];
  outputs?: string[];
}

export interface StepExecution {
  StepName: string;
  Action: string;
  StepStatus: 'InProgress' | 'Success' | 'Failed';
  Inputs: Record<string, string>;
  Outputs?: Record<string, string[]>;
  FailureMessage?: string;
}

export interface AutomationExecution {
  AutomationExecutionId: string;
  DocumentName: string;
  DocumentVersion: string;
  AutomationExecutionStatus: 'InProgress' | 'Success' | 'Failed';
  ExecutionStartTime: Date;
  ExecutionEndTime?: Date;
  ExecutedBy: string;
  Parameters: Record<string, string[]>;
  Outputs: Record<string, string[]>;
  StepExecutions: StepExecution[];
  FailureMessage?: string;
}

export interface SsmAutomationOptions {
  region: string;
  accountId: string;
  clock: LocalClock;
  /** Where aws:invokeLambdaFunction goes: the local Lambda, or the suite's function registry. */
  lambda: Pick<LambdaEmulator, 'invoke'>;
  /** The ARN Systems Manager records as ExecutedBy for a request signed by `caller`. */
  principalOf?: (caller: Caller) => string;
}

export class SsmAutomation {
  readonly executions = new Map<string, AutomationExecution>();
  private readonly documents = new Map<string, AutomationContent>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: SsmAutomationOptions) {}

  /** As CreateDocument with DocumentType Automation; refuses steps this runner cannot run. */
  createDocument(name: string, content: AutomationContent): void {
    if (content.schemaVersion !== '0.3') {
      throw new Error(
        `document ${name}: expected Automation schemaVersion 0.3, found ${content.schemaVersion}`,
      );
    }
    for (const step of content.mainSteps) {
      if (!(AUTOMATION_ACTIONS as readonly string[]).includes(step.action)) {
        throw new Error(
          `document ${name}: step ${step.name} is ${step.action}, which the local SSM Automation does not run (it runs ${AUTOMATION_ACTIONS.join(', ')}): teach local-aws/ssm-automation.ts that step type`,
        );
      }
    }
    this.documents.set(name, content);
  }

  /** Waits until no execution is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  readonly handle = async (req: IncomingMessage, res: ServerResponse, caller: Caller) => {
    try {
      const body = JSON.parse((await readBody(req)) || '{}');
      const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSSM\./, '');
      switch (action) {
        case 'StartAutomationExecution':
          return sendJson(res, 200, { AutomationExecutionId: this.start(body, caller) });
        case 'GetAutomationExecution':
          return sendJson(res, 200, { AutomationExecution: this.get(body.AutomationExecutionId) });
        default:
          throw new AwsError(
            'InvalidAction',
            `The local SSM serves StartAutomationExecution and GetAutomationExecution, not ${action}.`,
          );
      }
    } catch (error) {
      sendJsonError(
        res,
        error instanceof AwsError ? error : new AwsError('InternalServerError', String(error), 500),
      );
    }
  };

  private get(id: unknown): AutomationExecution {
    const execution = this.executions.get(String(id));
    if (!execution) {
      throw new AwsError(
        'AutomationExecutionNotFoundException',
        `Automation execution ${String(id)} was not found.`,
      );
    }
    return execution;
  }

  private start(
    request: { DocumentName?: string; Parameters?: Record<string, string[]> },
    caller: Caller,
  ): string {
    const name = String(request.DocumentName ?? '');
    const document = this.documents.get(name);
    if (!document) {
      throw new AwsError(
        'AutomationDefinitionNotFoundException',
        `Document ${name} was not found.`,
      );
    }
    const parameters = this.checkParameters(document, request.Parameters ?? {});
    const id = randomUUID();
    const execution: AutomationExecution = {
      AutomationExecutionId: id,
      DocumentName: name,
      DocumentVersion: '1',
      AutomationExecutionStatus: 'InProgress',
      ExecutionStartTime: this.options.clock.now(),
      ExecutedBy: this.principalOf(caller),
      Parameters: parameters,
      Outputs: {},
      StepExecutions: [],
    };
    this.executions.set(id, execution);
    const run = this.run(document, execution).finally(() => this.running.delete(run));
    this.running.add(run);
    return id;
  }

  private principalOf(caller: Caller): string {
    return (
      this.options.principalOf?.(caller) ??
      `arn:aws:sts::${this.options.accountId}:assumed-role/local-aws/local`
    );
  }

  private checkParameters(
    document: AutomationContent,
    given: Record<string, string[]>,
  ): Record<string, string[]> {
    const declared = document.parameters ?? {};
    const invalid = (message: string) =>
      new AwsError('InvalidAutomationExecutionParametersException', message);
    for (const key of Object.keys(given)) {
      if (!(key in declared)) throw invalid(`Parameter "${key}" is not defined in the document.`);
    }
    const out: Record<string, string[]> = {};
    for (const [key, spec] of Object.entries(declared)) {
      const values =
        given[key] ?? (spec.default === undefined ? undefined : [String(spec.default)]);
      if (values === undefined) throw invalid(`Parameter "${key}" is required but not provided.`);
      if (spec.allowedValues && values.some((v) => !spec.allowedValues!.includes(v))) {
        throw invalid(
          `Parameter "${key}" has value ${JSON.stringify(values)} not in allowedValues ${JSON.stringify(spec.allowedValues)}.`,
        );
      }
      out[key] = values;
    }
    return out;
  }

  private async run(document: AutomationContent, execution: AutomationExecution): Promise<void> {
    for (const step of document.mainSteps) {
      const record: StepExecution = {
        StepName: step.name,
        Action: step.action,
        StepStatus: 'InProgress',
        Inputs: {},
      };
      execution.StepExecutions.push(record);
      try {
        const inputs = Object.fromEntries(
          Object.entries(step.inputs ?? {}).map(([key, value]) => [
            key,
            this.substitute(String(value), execution),
          ]),
        );
        record.Inputs = inputs;
        record.Outputs = await this.invokeLambdaFunction(inputs);
        record.StepStatus = 'Success';
        for (const [key, value] of Object.entries(record.Outputs)) {
          if (document.outputs?.includes(`${step.name}.${key}`)) {
            execution.Outputs[`${step.name}.${key}`] = value;
          }
        }
      } catch (error) {
        record.StepStatus = 'Failed';
        record.FailureMessage = error instanceof Error ? error.message : String(error);
        if ((step.onFailure ?? 'Abort') === 'Abort') {
          execution.AutomationExecutionStatus = 'Failed';
          execution.FailureMessage = `Step fails when it is ${step.name}. ${record.FailureMessage}`;
          execution.ExecutionEndTime = this.options.clock.now();
          return;
        }
      }
    }
    execution.AutomationExecutionStatus = 'Success';
    execution.ExecutionEndTime = this.options.clock.now();
  }

  /** `{{ Name }}` and `{{ automation:EXECUTION_ID }}`, replaced as text. */
  private substitute(text: string, execution: AutomationExecution): string {
    return text.replace(/\{\{\s*([\w:]+)\s*\}\}/g, (_match, name: string) => {
      if (name === 'automation:EXECUTION_ID') return execution.AutomationExecutionId;
      if (name === 'global:ACCOUNT_ID') return this.options.accountId;
      if (name === 'global:REGION') return this.options.region;
      const value = execution.Parameters[name];
      if (value === undefined) throw new Error(`The variable {{ ${name} }} is not defined.`);
      return value.join(',');
    });
  }

  private async invokeLambdaFunction(
    inputs: Record<string, string>,
  ): Promise<Record<string, string[]>> {
    const type = inputs.InvocationType ?? 'RequestResponse';
    if (type !== 'RequestResponse') {
      throw new Error(`The local SSM Automation invokes with RequestResponse only, not ${type}.`);
    }
    let event: unknown = {};
    if (inputs.Payload !== undefined) {
      try {
        event = JSON.parse(inputs.Payload);
      } catch {
        throw new Error('Lambda: Could not parse request body into json (the step Payload).');
      }
    }
    const name = inputs.FunctionName;
    if (!name) throw new Error('Step input FunctionName is required.');
    try {
      const result = await this.options.lambda.invoke(name, event);
      return { StatusCode: ['200'], Payload: [JSON.stringify(result)] };
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new Error(`The Lambda function ${name} returned an error (Unhandled): ${detail}`);
    }
  }
}
