// An AWS Health exposed-credential event as EventBridge delivers it (AWS Health's
// AWS_RISK_CREDENTIALS_EXPOSED family, "Monitoring AWS Health events with Amazon EventBridge"),
// naming the access keys found exposed: what the stack's RevokeHealthRule hands the revoke-events
// function.
import { randomUUID } from 'node:crypto';

/** The event at `at` naming `accessKeyIds` (its affected entities) under `code`. */
export function exposedCredentialEvent(
  at: Date,
  accessKeyIds: string[],
  code = 'AWS_RISK_CREDENTIALS_EXPOSED',
) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS Health Event',
    source: 'aws.health',
    account: '123456789012',
    time: at.toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      eventArn: `arn:aws:health:global::event/RISK/${code}/${code}_${randomUUID()}`,
      service: 'RISK',
      eventTypeCode: code,
      eventTypeCategory: 'issue',
      startTime: at.toUTCString(),
      eventDescription: [{ language: 'en_US', latestDescription: 'Your key was found on GitHub.' }],
      affectedEntities: accessKeyIds.map((entityValue) => ({ entityValue })),
    },
  };
}
