// The one place AWS's errors are recognised: by name (or the `Code` older services set, never by
// `instanceof`, since a second copy of the SDK in a bundle has its own classes) and, where AWS
// gives one error name to several causes, by its documented message. Adapters call `awsCall`
// (or `translateAwsError`) so the domain sees the typed errors of `#domain/errors`.

import {
  AlreadyExistsError,
  ConflictError,
  DomainError,
  InvalidNextTokenError,
  InvalidRequestError,
  NotFoundError,
  StageConflictError,
  THROTTLE_NAMES,
  ThrottledError,
  type Translated,
} from '#domain/errors';

// UpdateSecretVersionStage's InvalidParameterException when the label is not on the version to
// remove it from, or is on another version than the one named.
const STAGE_CONFLICT =
  /not attached to version|is currently attached to version|attached to another version/i;

/** The AWS error name (`ResourceNotFoundException`), or undefined for anything else. */
export function awsErrorName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { Code?: unknown }).Code;
  return typeof code === 'string' && code !== '' ? code : error.name;
}

/** Whether `error` is the AWS error `name`. */
export const isAwsError = (error: unknown, name: string): boolean => awsErrorName(error) === name;

export interface TranslateOptions {
  /** The call continued a listing: a refused parameter means the continuation token. */
  continuation?: boolean;
}

/** The typed error for an AWS error; anything else (ours, a network error) is returned as is. */
export function translateAwsError(error: unknown, options: TranslateOptions = {}): unknown {
  if (!(error instanceof Error) || error instanceof DomainError) return error;
  const name = awsErrorName(error) ?? error.name;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const from: Translated = { name, cause: error, ...(metadata ? { $metadata: metadata } : {}) };
  const message = error.message;
  if (THROTTLE_NAMES.has(name) || metadata?.httpStatusCode === 429) {
    return new ThrottledError(message, from);
  }
  switch (name) {
    case 'ResourceNotFoundException':
    case 'NoSuchEntity':
    case 'NoSuchEntityException':
      return new NotFoundError(message, from);
    case 'ResourceExistsException':
      return new AlreadyExistsError(message, from);
    case 'ConditionalCheckFailedException':
      return new ConflictError(message, from);
    case 'InvalidNextTokenException':
      return new InvalidNextTokenError(message, from);
    case 'InvalidParameterException':
    case 'ValidationException':
    case 'InvalidRequestException':
      if (name === 'InvalidParameterException' && STAGE_CONFLICT.test(message)) {
        return new StageConflictError(message, from);
      }
      if (options.continuation && name !== 'InvalidRequestException') {
        return new InvalidNextTokenError(message, from);
      }
      return new InvalidRequestError(message, from);
    default:
      return error;
  }
}

/** Awaits an SDK call and throws its failure as a typed error. */
export async function awsCall<T>(call: Promise<T>, options?: TranslateOptions): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw translateAwsError(error, options);
  }
}
