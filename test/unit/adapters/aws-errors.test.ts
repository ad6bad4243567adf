// The adapters' translation of AWS errors into the domain's typed errors: each keeps the name and
// message a person reads, and gains a stable code the domain can act on without regexes.
import {
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { translateAwsError } from '#adapters/aws-errors';
import { SecretsManagerCatalog } from '#adapters/secrets-manager-catalog';
import { SecretsManagerStore } from '#adapters/secrets-manager-store';
import {
  describeError,
  errorCode,
  InvalidNextTokenError,
  InvalidRequestError,
  StageConflictError,
} from '#domain/errors';
import { isThrottle } from '#domain/pacer';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/api-key-AbCdEf';
const sm = mockClient(SecretsManagerClient);
// The class's send is patched for every instance: unpatch it for the next file in this worker.
afterAll(() => {
  sm.restore();
});

beforeEach(() => sm.reset());

/** An SDK error as the SDK shapes one that has no class of its own. */
const sdkError = (name: string, message: string, httpStatusCode = 400) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

describe('translateAwsError', () => {
  it.each([
    ['ResourceNotFoundException', 'Secrets Manager can’t find the specified secret.', 'not-found'],
    [
      'ResourceExistsException',
      'A resource with the ID you requested already exists.',
      'already-exists',
    ],
    ['ConditionalCheckFailedException', 'The conditional request failed', 'conflict'],
    ['InvalidNextTokenException', 'The NextToken value is invalid.', 'invalid-next-token'],
    ['InvalidRequestException', "A previous rotation isn't complete.", 'invalid-request'],
    ['ThrottlingException', 'Rate exceeded', 'throttled'],
    [
      'InvalidParameterException',
      'The staging label AWSCURRENT is currently attached to version 1111. Specify it to move it.',
      'stage-conflict',
    ],
    [
      'InvalidParameterException',
      'The staging label AWSPENDING is not attached to version 2222.',
      'stage-conflict',
    ],
    ['InvalidParameterException', 'MaxResults must be at most 100.', 'invalid-request'],
  ])('gives %s (%s) the code %s, keeping its name and message', (name, message, code) => {
    // Act
    const translated = translateAwsError(sdkError(name, message));

    // Assess
    expect(errorCode(translated)).toBe(code);
    expect(describeError(translated)).toBe(describeError(sdkError(name, message)));
    expect((translated as Error).cause).toBeInstanceOf(Error);
  });

  it('counts an HTTP 429 under any name as throttled, and the pacer backs off on it', () => {
    // Act
    const translated = translateAwsError(sdkError('SlowDownPlease', 'too fast', 429));

    // Assess
    expect(errorCode(translated)).toBe('throttled');
    expect(isThrottle(translated)).toBe(true);
  });

  it('reads the Code older services set in place of a name', () => {
    // Prepare
    const error = Object.assign(new Error('no such user'), { Code: 'ResourceNotFoundException' });

    // Act / Assess
    expect(errorCode(translateAwsError(error))).toBe('not-found');
  });

  it('leaves errors that are not AWS errors as they are', () => {
    // Prepare
    const plain = new TypeError('fetch failed');

    // Act / Assess
    expect(translateAwsError(plain)).toBe(plain);
    expect(translateAwsError('text')).toBe('text');
  });
});

describe('the Secrets Manager adapters', () => {
  it('throw a stage conflict the domain recognises by its code', async () => {
    // Prepare
    sm.on(UpdateSecretVersionStageCommand).rejects(
      new InvalidParameterException({
        message: 'The staging label AWSPENDING is not attached to version 3333.',
        $metadata: {},
      }),
    );
    const store = new SecretsManagerStore(new SecretsManagerClient({}));

    // Act
    const move = store.moveStage(ARN, 'AWSPENDING', undefined, '3333');

    // Assess
    await expect(move).rejects.toThrow(StageConflictError);
    await expect(move).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('call a refused continuation of the listing a stale token, and a refused first page not', async () => {
    // Prepare
    const refused = new InvalidParameterException({ message: 'bad parameter', $metadata: {} });
    sm.on(ListSecretsCommand).rejects(refused);
    const catalog = new SecretsManagerCatalog(new SecretsManagerClient({}));

    // Act / Assess
    await expect(catalog.listTagged('token-rotation:lifespan', 'stale')).rejects.toThrow(
      InvalidNextTokenError,
    );
    await expect(catalog.listTagged('token-rotation:lifespan')).rejects.toThrow(
      InvalidRequestError,
    );
  });

  it('keep the message of a refused request word for word', async () => {
    // Prepare
    sm.on(ListSecretsCommand).rejects(
      new InvalidRequestException({
        message: "A previous rotation isn't complete.",
        $metadata: {},
      }),
    );
    const catalog = new SecretsManagerCatalog(new SecretsManagerClient({}));

    // Act / Assess
    await expect(catalog.listTagged('token-rotation:lifespan')).rejects.toThrow(
      "A previous rotation isn't complete.",
    );
  });

  it('let a missing secret through as not found when it is the secret itself', async () => {
    // Prepare
    sm.on(UpdateSecretVersionStageCommand).rejects(
      new ResourceNotFoundException({ message: 'not found', $metadata: {} }),
    );
    const store = new SecretsManagerStore(new SecretsManagerClient({}));

    // Act / Assess
    await expect(store.moveStage(ARN, 'AWSCURRENT', '1', '2')).rejects.toMatchObject({
      code: 'not-found',
    });
  });
});
