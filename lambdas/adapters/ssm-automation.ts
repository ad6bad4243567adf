// Reads a Systems Manager Automation execution: what the revoke function is told by the
// EmergencyRevoke runbook is only its execution ID, and everything else (the form's fields, who
// started it) is read back from Systems Manager, so no invoker can claim to be someone else.
import { GetAutomationExecutionCommand, SSMClient } from '@aws-sdk/client-ssm';
import { retry } from '#commons/clients';
import { isAwsError } from './aws-errors.ts';

export interface AutomationExecution {
  executionId: string;
  documentName: string;
  /** `InProgress` while its steps run; `Success`, `Failed`, ... once done. */
  status: string;
  /** The ARN of the principal that started it, as Systems Manager recorded it. */
  executedBy?: string;
  /** The form's fields, each a list of strings as Systems Manager keeps them. */
  parameters: Record<string, string[]>;
}

export interface AutomationExecutions {
  /** The execution, or undefined when Systems Manager has none with that ID. */
  get(executionId: string): Promise<AutomationExecution | undefined>;
}

/** The deployed revoke function's reader: endpoints and region from the SDK's own configuration. */
export const deployedAutomationExecutions = (): AutomationExecutions =>
  new SsmAutomationExecutions(new SSMClient(retry));

export class SsmAutomationExecutions implements AutomationExecutions {
  constructor(private readonly ssm: SSMClient) {}

  async get(executionId: string): Promise<AutomationExecution | undefined> {
    try {
      const out = await this.ssm.send(
        new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }),
      );
      const execution = out.AutomationExecution;
      if (!execution) return undefined;
      return {
        executionId,
        documentName: execution.DocumentName ?? '',
        status: execution.AutomationExecutionStatus ?? '',
        ...(execution.ExecutedBy ? { executedBy: execution.ExecutedBy } : {}),
        parameters: execution.Parameters ?? {},
      };
    } catch (error) {
      if (isAwsError(error, 'AutomationExecutionNotFoundException')) return undefined;
      throw error;
    }
  }
}
