// SDK clients, created once per container. Endpoints come from the SDK's own configuration
// (AWS_ENDPOINT_URL and friends), so the same code reaches AWS, a compatible endpoint, or the
// embedded local AWS with no code path of its own.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

let secretsManager: SecretsManagerClient | undefined;
let dynamo: DynamoDBDocumentClient | undefined;
let sns: SNSClient | undefined;

// Secrets Manager throttles at 50 writes/s; adaptive retry backs off on ThrottlingException.
// The clients only some functions need (IAM, STS, Lambda, S3, Systems Manager) are made by their
// adapters, loaded on first use (adapters/on-first-call.ts), with these settings where they retry.
export const retry = { maxAttempts: 8, retryMode: 'adaptive' as const };

export const secretsManagerClient = () => (secretsManager ??= new SecretsManagerClient(retry));
export const dynamoClient = () =>
  (dynamo ??= DynamoDBDocumentClient.from(new DynamoDBClient(retry), {
    marshallOptions: { removeUndefinedValues: true },
  }));
export const snsClient = () => (sns ??= new SNSClient(retry));
