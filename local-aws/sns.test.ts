import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from './index.ts';

let aws: LocalAws;
let sns: SNSClient;
let topicArn: string;

beforeEach(async () => {
  aws = await startLocalAws({ clock: '2025-03-10T05:00:00Z' });
  sns = new SNSClient({ ...aws.clientConfig, maxAttempts: 1 });
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
});
afterEach(async () => {
  sns.destroy();
  await aws.stop();
});

const publish = (input: Partial<ConstructorParameters<typeof PublishCommand>[0]>) =>
  sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'body', ...input }));

describe('SNS topics', () => {
  it('answers the same ARN when a topic is created twice', async () => {
    const again = await sns.send(new CreateTopicCommand({ Name: 'alerts' }));

    expect(again.TopicArn).toBe(topicArn);
    expect(topicArn).toBe(`arn:aws:sns:us-east-1:${aws.accountId}:alerts`);
  });

  it('records e-mail subscriptions as pending confirmation', async () => {
    const subscribed = await sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'email', Endpoint: 'ops@example.com' }),
    );
    const attributes = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));

    expect(subscribed.SubscriptionArn).toBe('pending confirmation');
    expect(aws.sns.subscriptions).toMatchObject([
      { topicArn, protocol: 'email', endpoint: 'ops@example.com' },
    ]);
    expect(attributes.Attributes).toMatchObject({ TopicArn: topicArn, SubscriptionsPending: '1' });
  });

  it('fails to publish to a deleted topic', async () => {
    await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));

    await expect(publish({})).rejects.toMatchObject({
      name: 'NotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
  });
});

describe('SNS Publish', () => {
  it('records subject, message, attributes and the local time of every publish', async () => {
    const { MessageId } = await publish({
      Subject: '[high] rotation.failed: app/api-key',
      Message: 'What happened...',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'high' },
        event: { DataType: 'String', StringValue: 'rotation.failed' },
      },
    });

    expect(aws.sns.messagesTo('alerts')).toEqual([
      {
        topicArn,
        messageId: MessageId,
        subject: '[high] rotation.failed: app/api-key',
        message: 'What happened...',
        attributes: {
          severity: { DataType: 'String', StringValue: 'high' },
          event: { DataType: 'String', StringValue: 'rotation.failed' },
        },
        at: new Date('2025-03-10T05:00:00Z'),
      },
    ]);
  });

  it('accepts a 99-character ASCII subject', async () => {
    await publish({ Subject: 'x'.repeat(99) });

    expect(aws.sns.published).toHaveLength(1);
  });

  it.each([
    ['100 characters', 'x'.repeat(100)],
    ['a line break', 'rotation\nfailed'],
    ['a control character', 'rotation\tfailed'],
    ['non-ASCII text', 'rotation failed — app'],
  ])('fails a subject with %s', async (_what, subject) => {
    await expect(publish({ Subject: subject })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Subject',
    });
    expect(aws.sns.published).toEqual([]);
  });

  it('fails an empty message and one over 256 KB', async () => {
    await expect(publish({ Message: '' })).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(publish({ Message: 'x'.repeat(262_145) })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Message too long',
    });
  });

  it('fails a message attribute without a value', async () => {
    await expect(
      publish({ MessageAttributes: { severity: { DataType: 'String', StringValue: '' } } }),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });
});
