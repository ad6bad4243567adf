// SDK clients, created once per container. Endpoints come from the SDK's own configuration
// (AWS_ENDPOINT_URL and friends), so the same code reaches AWS, a compatible endpoint, or the
// embedded local AWS with no code path of its own. Every client is traced (commons/tracer.ts).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { traced } from './tracer.ts';

let secretsManager: SecretsManagerClient | undefined;
let dynamo: DynamoDBDocumentClient | undefined;
let sns: SNSClient | undefined;
let ssm: SSMClient | undefined;

// Secrets Manager throttles at 50 writes/s; adaptive retry backs off on ThrottlingException.
const retry = { maxAttempts: 8, retryMode: 'adaptive' as const };

export const secretsManagerClient = () =>
  (secretsManager ??= traced(new SecretsManagerClient(retry)));
export const dynamoClient = () =>
  (dynamo ??= DynamoDBDocumentClient.from(traced(new DynamoDBClient(retry)), {
    marshallOptions: { removeUndefinedValues: true },
  }));
export const snsClient = () => (sns ??= traced(new SNSClient(retry)));
export const ssmClient = () => (ssm ??= traced(new SSMClient(retry)));
