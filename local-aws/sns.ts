// An in-memory SNS speaking the Query protocol that @aws-sdk/client-sns 3.1164.0 sends
// (form-encoded `Action=Publish&...`, XML answers). It records every publish for tests and the
// demo, and enforces the Publish limits AWS enforces, so an alert that would bounce on AWS
// bounces here too.
import { randomUUID } from 'node:crypto';
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
  xmlMap,
} from './wire.ts';

const XMLNS = 'https://sns.amazonaws.com/doc/2010-03-31/';
/** Publish: "The maximum size is 256 KB" (message plus attributes, in bytes). */
const MAX_MESSAGE_BYTES = 262_144;

export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface PublishedMessage {
  topicArn: string;
  messageId: string;
  subject?: string;
  message: string;
  attributes: Record<string, MessageAttribute>;
  at: Date;
}

export interface Subscription {
  subscriptionArn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
}

interface Topic {
  arn: string;
  name: string;
  attributes: Record<string, string>;
}

const invalid = (what: string) => new AwsError('InvalidParameter', `Invalid parameter: ${what}`);

export class SnsEmulator {
  /** Every accepted publish, oldest first. */
  readonly published: PublishedMessage[] = [];
  readonly subscriptions: Subscription[] = [];
  private readonly topics = new Map<string, Topic>();

  constructor(private readonly options: { region: string; accountId: string; clock: LocalClock }) {}

  /** Messages published to one topic (ARN or name). */
  messagesTo(topic: string): PublishedMessage[] {
    return this.published.filter((m) => m.topicArn === topic || m.topicArn.endsWith(`:${topic}`));
  }

  readonly handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    _caller?: Caller,
  ): Promise<void> => {
    let action = 'Unknown';
    try {
      const params = queryParams(await readBody(req));
      action = params.get('Action') ?? '';
      sendQuery(res, action, XMLNS, this.call(action, params));
    } catch (error) {
      const aws =
        error instanceof AwsError
          ? error
          : new AwsError(
              'InternalError',
              error instanceof Error ? error.message : String(error),
              500,
            );
      sendQueryError(res, aws, XMLNS);
    }
  };

  call(action: string, params: Map<string, string>): XmlValue {
    switch (action) {
      case 'CreateTopic':
        return this.createTopic(params);
      case 'DeleteTopic':
        this.topics.delete(params.get('TopicArn') ?? '');
        this.subscriptions.splice(
          0,
          this.subscriptions.length,
          ...this.subscriptions.filter((s) => s.topicArn !== params.get('TopicArn')),
        );
        return undefined;
      case 'GetTopicAttributes':
        return this.getTopicAttributes(params);
      case 'Subscribe':
        return this.subscribe(params);
      case 'Publish':
        return this.publish(params);
      default:
        throw new AwsError('InvalidAction', `The action ${action} is not valid for this endpoint.`);
    }
  }

  private topic(arn: string | undefined): Topic {
    const topic = arn ? this.topics.get(arn) : undefined;
    if (!topic) throw new AwsError('NotFound', 'Topic does not exist', 404);
    return topic;
  }

  private createTopic(params: Map<string, string>): XmlValue {
    const name = params.get('Name') ?? '';
    // "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers,
    // underscores, and hyphens, and must be between 1 and 256 characters long" (+ `.fifo`).
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(name.replace(/\.fifo$/, '')) || name.length > 256) {
      throw invalid('Topic Name');
    }
    const arn = `arn:aws:sns:${this.options.region}:${this.options.accountId}:${name}`;
    // CreateTopic is idempotent: the same name answers the same ARN.
    if (!this.topics.has(arn)) {
      const attributes: Record<string, string> = {};
      for (let i = 1; params.has(`Attributes.entry.${i}.key`); i++) {
        attributes[params.get(`Attributes.entry.${i}.key`)!] =
          params.get(`Attributes.entry.${i}.value`) ?? '';
      }
      this.topics.set(arn, { arn, name, attributes });
    }
    return { TopicArn: arn };
  }

  private getTopicAttributes(params: Map<string, string>): XmlValue {
    const topic = this.topic(params.get('TopicArn'));
    const subscribed = this.subscriptions.filter((s) => s.topicArn === topic.arn).length;
    return {
      Attributes: xmlMap({
        ...topic.attributes,
        TopicArn: topic.arn,
        Owner: this.options.accountId,
        DisplayName: topic.attributes.DisplayName ?? '',
        SubscriptionsConfirmed: '0',
        // E-mail subscriptions wait for the recipient to click the confirmation link.
        SubscriptionsPending: String(subscribed),
        SubscriptionsDeleted: '0',
      }),
    };
  }

  private subscribe(params: Map<string, string>): XmlValue {
    const topic = this.topic(params.get('TopicArn'));
    const protocol = params.get('Protocol') ?? '';
    const endpoint = params.get('Endpoint') ?? '';
    if (!protocol) throw invalid('Protocol');
    if (
      (protocol === 'email' || protocol === 'email-json') &&
      !/^[^@\s]+@[^@\s]+$/.test(endpoint)
    ) {
      throw invalid('Email address');
    }
    const subscriptionArn = `${topic.arn}:${randomUUID()}`;
    this.subscriptions.push({ subscriptionArn, topicArn: topic.arn, protocol, endpoint });
    // Unconfirmed subscriptions answer "pending confirmation" unless ReturnSubscriptionArn is set.
    const pending = protocol.startsWith('email') && params.get('ReturnSubscriptionArn') !== 'true';
    return { SubscriptionArn: pending ? 'pending confirmation' : subscriptionArn };
  }

  private publish(params: Map<string, string>): XmlValue {
    const topicArn = params.get('TopicArn') ?? params.get('TargetArn');
    if (!topicArn) throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
    this.topic(topicArn);
    const message = params.get('Message');
    if (!message) throw invalid('Empty message');
    const subject = params.get('Subject');
    // Publish: "Subjects must be ASCII text that begins with a letter, number, or punctuation
    // mark; must not include line breaks or control characters; and must be less than 100
    // characters long."
    if (subject !== undefined) {
      const ascii = /^[\x20-\x7e]*$/.test(subject);
      if (
        !ascii ||
        subject.length === 0 ||
        subject.length >= 100 ||
        !/^[A-Za-z0-9\p{P}]/u.test(subject)
      ) {
        throw invalid('Subject');
      }
    }
    const attributes = this.attributes(params);
    const size =
      Buffer.byteLength(message) +
      Object.entries(attributes).reduce(
        (sum, [name, a]) =>
          sum +
          Buffer.byteLength(name) +
          Buffer.byteLength(a.DataType) +
          Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? ''),
        0,
      );
    if (size > MAX_MESSAGE_BYTES) throw invalid('Message too long');
    const messageId = randomUUID();
    this.published.push({
      topicArn,
      messageId,
      ...(subject !== undefined ? { subject } : {}),
      message,
      attributes,
      at: this.options.clock.now(),
    });
    return { MessageId: messageId };
  }

  /**
   * `MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}`, checked as SNS checks
   * them. Their errors carry the Query code ParameterValueInvalid, which the SDK raises as
   * InvalidParameterValueException.
   */
  private attributes(params: Map<string, string>): Record<string, MessageAttribute> {
    const attributes: Record<string, MessageAttribute> = {};
    for (let i = 1; params.has(`MessageAttributes.entry.${i}.Name`); i++) {
      const name = params.get(`MessageAttributes.entry.${i}.Name`)!;
      const dataType = params.get(`MessageAttributes.entry.${i}.Value.DataType`) ?? '';
      const stringValue = params.get(`MessageAttributes.entry.${i}.Value.StringValue`);
      const binaryValue = params.get(`MessageAttributes.entry.${i}.Value.BinaryValue`);
      if (
        !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
        name.startsWith('.') ||
        name.endsWith('.') ||
        name.includes('..') ||
        /^(aws\.|amazon\.)/i.test(name)
      ) {
        throw new AwsError(
          'ParameterValueInvalid',
          `The message attribute name '${name}' is invalid.`,
        );
      }
      if (!/^(String|Number|Binary)(\..+)?$/.test(dataType)) {
        throw new AwsError(
          'ParameterValueInvalid',
          `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
        );
      }
      const isBinary = dataType.startsWith('Binary');
      if (isBinary ? !binaryValue : !stringValue) {
        throw new AwsError(
          'ParameterValueInvalid',
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType.split('.')[0]}'.`,
        );
      }
      attributes[name] = {
        DataType: dataType,
        ...(isBinary ? { BinaryValue: binaryValue! } : { StringValue: stringValue! }),
      };
    }
    // "Amazon SNS supports up to 10 message attributes."
    const count = Object.keys(attributes).length;
    if (count > 10) {
      throw new AwsError(
        'ParameterValueInvalid',
        `Number of message attributes [${count}] exceeds the allowed maximum [10].`,
      );
    }
    return attributes;
  }
}
