// CloudFormation logical IDs are a public contract: an installed stack updates in place only
// while each resource keeps its ID, and a stateful one (the audit table and its key, the alert
// topic and key, the log groups, the dead-letter queues and their messages) given a new ID is
// replaced, losing what it holds. The lists below are the IDs the stack had when TokenRotation was
// one class; the sub-constructs keep them (infra/logical-ids.ts). A change here is a migration.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Json, synthApp } from './support.ts';

/** Stateful resources: these IDs never change. */
const STATEFUL: Record<string, string> = {
  TokenRotationAuditAnchorBucket8FE78027: 'AWS::S3::Bucket',
  TokenRotationAlertEmailsDeadLettersA4E4D041: 'AWS::SQS::Queue',
  TokenRotationAlertKeyD2DF1F30: 'AWS::KMS::Key',
  TokenRotationAlertTopicC3981B11: 'AWS::SNS::Topic',
  TokenRotationAuditKey6245E760: 'AWS::KMS::Key',
  TokenRotationAuditTable3AB7922F: 'AWS::DynamoDB::Table',
  TokenRotationFingerprintKeySecret81757A63: 'AWS::SecretsManager::Secret',
  TokenRotationRevokeDeadLettersEB1E87BE: 'AWS::SQS::Queue',
  TokenRotationRevokeEventsDeadLetters4721FFD0: 'AWS::SQS::Queue',
  TokenRotationRevokeEventsLogs829B3D6C: 'AWS::Logs::LogGroup',
  TokenRotationRevokeLogs619BA96B: 'AWS::Logs::LogGroup',
  TokenRotationRotationLogsA7EB6EA3: 'AWS::Logs::LogGroup',
  TokenRotationSecretsManagerEventsDeadLetters1200C026: 'AWS::SQS::Queue',
  TokenRotationSecretsManagerEventsLogsB7E61521: 'AWS::Logs::LogGroup',
  TokenRotationSweepLogs6F80DF3B: 'AWS::Logs::LogGroup',
  TokenRotationSweepScheduleDeadLettersDA82E2B6: 'AWS::SQS::Queue',
  TokenRotationTagEventsDeadLettersD33E46F3: 'AWS::SQS::Queue',
  TokenRotationTagEventsLogs15382FAE: 'AWS::Logs::LogGroup',
};

/** Every resource of the stack with one alert e-mail address. */
const ALL_RESOURCES = [
  'TokenRotation90209CB8',
  'TokenRotationAlertEmailsDeadLettersA4E4D041',
  'TokenRotationAlertEmailsDeadLettersAlarm4A5ADCB1',
  'TokenRotationAlertEmailsDeadLettersPolicyC65B700B',
  'TokenRotationAlertKeyD2DF1F30',
  'TokenRotationAlertTopicC3981B11',
  'TokenRotationAlertTopicPolicy586C05EF',
  'TokenRotationAlertTopicopsexamplecomD0E83AA2',
  'TokenRotationAuditKey6245E760',
  'TokenRotationAuditTable3AB7922F',
  'TokenRotationDashboardB9D9010E',
  'TokenRotationRevokeDeadLettersAlarmDDFF38E9',
  'TokenRotationRevokeDeadLettersEB1E87BE',
  'TokenRotationRevokeDeadLettersPolicy0E607C22',
  'TokenRotationRevokeE582754F',
  'TokenRotationRevokeErrorsAlarm69868BE9',
  'TokenRotationRevokeEventInvokeConfig79D1B562',
  'TokenRotationRevokeEvents1E24F45E',
  'TokenRotationRevokeEventsDeadLetters4721FFD0',
  'TokenRotationRevokeEventsDeadLettersAlarm7278BB2E',
  'TokenRotationRevokeEventsDeadLettersPolicy0F18EF1B',
  'TokenRotationRevokeEventsErrorsAlarm7DCFD7D6',
  'TokenRotationRevokeEventsLogs829B3D6C',
  'TokenRotationRevokeEventsRole5EA43CBB',
  'TokenRotationRevokeEventsRoleDefaultPolicy3EFF5EC7',
  'TokenRotationRevokeEventsThrottlesAlarm42889CBD',
  'TokenRotationRevokeHealthRuleA1A1EC1D',
  'TokenRotationRevokeHealthRuleAllowEventRuleTokenRotationRevokeEventsCFE50D7167462194',
  'TokenRotationRevokeLogs619BA96B',
  'TokenRotationRevokeOperatorPolicy0086B0AC',
  'TokenRotationRevokeRoleDefaultPolicyFD9D3982',
  'TokenRotationRevokeRoleEC0F88F7',
  'TokenRotationRevokeRunbookDCA5C13A',
  'TokenRotationRevokeRunbookRole5AA4AAC0',
  'TokenRotationRevokeRunbookRoleDefaultPolicy86395935',
  'TokenRotationRevokeTagRule8C679A8F',
  'TokenRotationRevokeTagRuleAllowEventRuleTokenRotationRevokeEventsCFE50D71559DB706',
  'TokenRotationRevokeThrottlesAlarmD5FA8A34',
  'TokenRotationRotationErrorsAlarmEBB3EEC4',
  'TokenRotationRotationFailuresAlarm730F2229',
  'TokenRotationRotationLogsA7EB6EA3',
  'TokenRotationRotationRoleB1C5DCB1',
  'TokenRotationRotationRoleDefaultPolicy56522F76',
  'TokenRotationRotationThrottlesAlarmC1ADB8B6',
  'TokenRotationSecretsManagerEvents02CDB6A3',
  'TokenRotationSecretsManagerEventsDeadLetters1200C026',
  'TokenRotationSecretsManagerEventsDeadLettersAlarmECADCF5A',
  'TokenRotationSecretsManagerEventsDeadLettersPolicy448499EB',
  'TokenRotationSecretsManagerEventsErrorsAlarm52C62CED',
  'TokenRotationSecretsManagerEventsLogsB7E61521',
  'TokenRotationSecretsManagerEventsRole9B91DC83',
  'TokenRotationSecretsManagerEventsRoleDefaultPolicyC77702B8',
  'TokenRotationSecretsManagerEventsThrottlesAlarm142D2B1F',
  'TokenRotationSecretsManagerInvoke728513ED',
  'TokenRotationSecretsManagerRotationEvents73049CE7',
  'TokenRotationSecretsManagerRotationEventsAllowEventRuleTokenRotationSecretsManagerEventsFEE76D819BF6C39D',
  'TokenRotationSweepB3491BC6',
  'TokenRotationSweepErrorsAlarm397C0F3D',
  'TokenRotationSweepEventInvokeConfigCFE47BE2',
  'TokenRotationSweepLogs6F80DF3B',
  'TokenRotationSweepNotCompletedAlarmCA9623D8',
  'TokenRotationSweepRole16A3BFA4',
  'TokenRotationSweepRoleDefaultPolicyCDE7FC9F',
  'TokenRotationSweepScheduleA73E0D35',
  'TokenRotationSweepScheduleDeadLettersAlarm52883A01',
  'TokenRotationSweepScheduleDeadLettersDA82E2B6',
  'TokenRotationSweepScheduleDeadLettersPolicy0447A99E',
  'TokenRotationSweepScheduleRole498F8BBA',
  'TokenRotationSweepScheduleRoleDefaultPolicyD0854D8D',
  'TokenRotationSweepThrottlesAlarmD20C9B60',
  'TokenRotationTagEvents1ECD26F8',
  'TokenRotationTagEventsDeadLettersAlarm441BF417',
  'TokenRotationTagEventsDeadLettersD33E46F3',
  'TokenRotationTagEventsDeadLettersPolicyD39D50BD',
  'TokenRotationTagEventsErrorsAlarm967DC3BD',
  'TokenRotationTagEventsLogs15382FAE',
  'TokenRotationTagEventsRole72D3BB66',
  'TokenRotationTagEventsRoleDefaultPolicy618665FC',
  'TokenRotationTagEventsRule7E73F027',
  'TokenRotationTagEventsRuleAllowEventRuleTokenRotationTagEventsBBCD8FC1C4CB368C',
  'TokenRotationTagEventsThrottlesAlarm53769C10',
];

/** Outputs, read by name by the CLI and by people. */
const OUTPUTS = [
  'AlertTopicArn',
  'AlertTopicConsole',
  'AuditTableConsole',
  'AuditTableName',
  'DashboardConsole',
  'MaxLifespanHours',
  'RevokeEventsFunctionConsole',
  'RevokeFunctionConsole',
  'RevokeFunctionName',
  'RevokeOperatorPolicyArn',
  'RevokeRunbookConsole',
  'RevokeRunbookName',
  'RevokeTestEvent',
  'RotationFunctionConsole',
  'SecretsManagerEventsFunctionConsole',
  'SweepFunctionConsole',
  'TagEventsFunctionConsole',
];

describe('logical IDs', () => {
  let resources: Record<string, Json>;
  let outputs: Record<string, Json>;
  beforeAll(() => {
    const { template } = synthApp({ alertEmails: 'ops@example.com' });
    const json = template.toJSON();
    resources = json.Resources;
    outputs = json.Outputs;
  });

  it('keeps every stateful resource under its ID and type', () => {
    for (const [id, type] of Object.entries(STATEFUL)) {
      expect(resources[id]?.Type, id).toBe(type);
    }
  });

  it('keeps every resource ID of the stack', () => {
    expect(
      Object.keys(resources)
        .filter((id) => !ADDED.includes(id))
        .sort(),
    ).toEqual([...ALL_RESOURCES].sort());
  });

  it('adds the checkpoint bucket, its writer, the auditor policy and their outputs under fixed IDs', () => {
    for (const id of ADDED) expect(resources[id] ?? outputs[id], id).toBeDefined();
  });

  it('keeps every output name', () => {
    expect(
      Object.keys(outputs)
        .filter((id) => !ADDED.includes(id))
        .sort(),
    ).toEqual([...OUTPUTS].sort());
  });
});

/** Resources and outputs added since the lists above were taken (nothing replaced). */
const ADDED: string[] = [
  // The AuditAnchor's checkpoint bucket (stateful, pinned in STATEFUL) and its TLS-only policy.
  'TokenRotationAuditAnchorBucket8FE78027',
  'TokenRotationAuditAnchorBucketPolicy0316C23E',
  'CheckpointBucketName',
  // The auditors' managed policy (issue 17) and its output.
  'TokenRotationAuditorPolicy96694584',
  'AuditorPolicyArn',
  // The token index's fingerprint key (stateful: retained) and its output, which the scanner reads.
  'TokenRotationFingerprintKeySecret81757A63',
  'FingerprintKeySecretArn',
  // The checkpoint writer (issue 16: out of the sweep), its schedule, role, logs and alarms.
  'TokenRotationAuditAnchorCheckpointSchedule396EE48A',
  'TokenRotationAuditAnchorCheckpointScheduleDeadLetters05841E04',
  'TokenRotationAuditAnchorCheckpointScheduleDeadLettersAlarmA047DC40',
  'TokenRotationAuditAnchorCheckpointScheduleDeadLettersPolicyD3D5221E',
  'TokenRotationAuditAnchorCheckpointScheduleRole0B49D5D1',
  'TokenRotationAuditAnchorCheckpointScheduleRoleDefaultPolicy0BEF70CD',
  'TokenRotationAuditAnchorCheckpointWriter5391231F',
  'TokenRotationAuditAnchorCheckpointWriterErrorsAlarm2177E2B1',
  'TokenRotationAuditAnchorCheckpointWriterEventInvokeConfigE592A150',
  'TokenRotationAuditAnchorCheckpointWriterLogsA7693096',
  'TokenRotationAuditAnchorCheckpointWriterRole49D30432',
  'TokenRotationAuditAnchorCheckpointWriterRoleDefaultPolicy62F9E488',
  'TokenRotationAuditAnchorCheckpointWriterThrottlesAlarm1F611B0A',
  'CheckpointWriterFunctionConsole',
];
