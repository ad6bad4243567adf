// The default event bus, as far as Secrets Manager feeds it: CloudTrail-derived events
// (`source: aws.secretsmanager`) delivered to listeners the way an EventBridge rule would.
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';

/**
 * The `detail` of a CloudTrail event as EventBridge delivers it. Service events
 * (RotationFailed, ...) have null request/response and the secret in `additionalEventData`;
 * API calls (TagResource, ...) have the caller's parameters, never secret values.
 * Shape taken from real RotationFailed events (detail-type "AWS Service Event via CloudTrail").
 */
export interface CloudTrailDetail {
  eventVersion: string;
  userIdentity: Record<string, unknown>;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  errorMessage?: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  eventType: 'AwsServiceEvent' | 'AwsApiCall';
  managementEvent: boolean;
  recipientAccountId: string;
  eventCategory: 'Management';
}

export type DetailType = 'AWS Service Event via CloudTrail' | 'AWS API Call via CloudTrail';
export type LocalEvent = EventBridgeEvent<DetailType, CloudTrailDetail>;
export type EventListener = (event: LocalEvent) => Promise<unknown> | unknown;

export class EventBus {
  /** Every event put on the bus, oldest first. */
  readonly delivered: LocalEvent[] = [];
  /** Listener failures; EventBridge would retry and then drop, so they never reach the emitter. */
  readonly failures: { event: LocalEvent; error: unknown }[] = [];
  private readonly listeners = new Set<{
    listener: EventListener;
    filter?: (e: LocalEvent) => boolean;
  }>();
  private readonly inFlight = new Set<Promise<unknown>>();

  /**
   * Registers a listener, optionally for some events only (`eventName` list, as a rule's
   * pattern would match). Returns a function that removes it.
   */
  listen(
    listener: EventListener,
    match?: { eventName?: string[]; detailType?: DetailType[] },
  ): () => void {
    const filter = match
      ? (e: LocalEvent) =>
          (!match.eventName || match.eventName.includes(e.detail.eventName)) &&
          (!match.detailType || match.detailType.includes(e['detail-type']))
      : undefined;
    const entry = { listener, filter };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Puts an event on the bus. Delivery is asynchronous, as on AWS; `idle()` waits for it. */
  emit(event: LocalEvent): void {
    this.delivered.push(event);
    for (const { listener, filter } of this.listeners) {
      if (filter && !filter(event)) continue;
      const delivery = Promise.resolve()
        .then(() => listener(structuredClone(event)))
        .catch((error: unknown) => {
          this.failures.push({ event, error });
        })
        .finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  /** Resolves when every delivery started so far (and any they started) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Events with this CloudTrail `eventName`, oldest first. */
  named(eventName: string): LocalEvent[] {
    return this.delivered.filter((e) => e.detail.eventName === eventName);
  }
}

/** Builds an EventBridge event from a CloudTrail record, as `aws.<service>` would deliver it. */
export function cloudTrailEvent(options: {
  service: string;
  detailType: DetailType;
  eventName: string;
  time: Date;
  region: string;
  accountId: string;
  userIdentity: Record<string, unknown>;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  errorMessage?: string;
  resources?: string[];
}): LocalEvent {
  const eventTime = `${options.time.toISOString().slice(0, 19)}Z`;
  const serviceEvent = options.detailType === 'AWS Service Event via CloudTrail';
  const host = `${options.service}.amazonaws.com`;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': options.detailType,
    source: `aws.${options.service}`,
    account: options.accountId,
    time: eventTime,
    region: options.region,
    resources: options.resources ?? [],
    detail: {
      eventVersion: '1.08',
      userIdentity: options.userIdentity,
      eventTime,
      eventSource: host,
      eventName: options.eventName,
      awsRegion: options.region,
      sourceIPAddress: serviceEvent ? host : '127.0.0.1',
      userAgent: serviceEvent ? host : 'local-aws',
      ...(options.errorMessage ? { errorMessage: options.errorMessage } : {}),
      requestParameters: options.requestParameters ?? null,
      responseElements: options.responseElements ?? null,
      ...(options.additionalEventData ? { additionalEventData: options.additionalEventData } : {}),
      requestID: randomUUID(),
      eventID: randomUUID(),
      readOnly: false,
      eventType: serviceEvent ? 'AwsServiceEvent' : 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: options.accountId,
      eventCategory: 'Management',
    },
  };
}
