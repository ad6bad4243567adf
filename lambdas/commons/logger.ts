// One structured logger for every handler. Log keys name secrets by ARN and versions by ID;
// secret values never reach a log line (see domain/errors.ts `scrub`).
import { Logger } from '@aws-lambda-powertools/logger';
import { POWERTOOLS_SERVICE_NAME } from './env-names.ts';

export const logger = new Logger({
  serviceName: process.env[POWERTOOLS_SERVICE_NAME] ?? 'token-rotation',
});
