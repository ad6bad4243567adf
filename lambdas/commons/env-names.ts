// The environment variables the construct (infra/) sets on the functions and the handlers read,
// named once here so the two sides cannot drift apart. Renaming one is a breaking change for a
// deployed stack only in that both sides change together: keep the values as they are.

/** DynamoDB table of the audit trail (and alert marks). */
export const AUDIT_TABLE_NAME = 'AUDIT_TABLE_NAME';
/** SNS topic that receives alerts. */
export const ALERT_TOPIC_ARN = 'ALERT_TOPIC_ARN';
/** Minutes between sweeps. */
export const SWEEP_INTERVAL_MINUTES = 'SWEEP_INTERVAL_MINUTES';
/** Name of the deployed stack (console links, the runbook name). */
export const STACK_NAME = 'STACK_NAME';
/** Powertools service name (the metrics' `service` dimension). */
export const POWERTOOLS_SERVICE_NAME = 'POWERTOOLS_SERVICE_NAME';
/** Powertools metrics namespace. */
export const POWERTOOLS_METRICS_NAMESPACE = 'POWERTOOLS_METRICS_NAMESPACE';
/** Powertools log level. */
export const POWERTOOLS_LOG_LEVEL = 'POWERTOOLS_LOG_LEVEL';
/** Hours a previous IAM access key stays deactivated before it is deleted. */
export const DELETE_DEACTIVATED_AFTER_HOURS = 'DELETE_DEACTIVATED_AFTER_HOURS';
/** The longest lifespan a tag may ask for, in hours. */
export const MAX_LIFESPAN_HOURS = 'MAX_LIFESPAN_HOURS';
/** How many grace periods a still-used previous token's grace is extended by, once (0 to 4). */
export const GRACE_EXTENSIONS = 'GRACE_EXTENSIONS';
/** ARN of the suite's rotation function (sweep and tag events attach it). */
export const ROTATION_FUNCTION_ARN = 'ROTATION_FUNCTION_ARN';
/** ARN of the revoke function the sweep hands revoke tags to. */
export const REVOKE_FUNCTION_ARN = 'REVOKE_FUNCTION_ARN';
/** Comma-separated roles of the suite's functions, whose tag changes the tag handler ignores. */
export const SUITE_ROLE_ARNS = 'SUITE_ROLE_ARNS';
/** The AuditAnchor bucket the sweep writes checkpoints to. */
export const CHECKPOINT_BUCKET_NAME = 'CHECKPOINT_BUCKET_NAME';
/** Days each checkpoint is locked. */
export const CHECKPOINT_RETENTION_DAYS = 'CHECKPOINT_RETENTION_DAYS';
/** The Secrets Manager secret holding the keyed-fingerprint key (#domain/keyed-fingerprint). */
export const FINGERPRINT_KEY_SECRET_ARN = 'FINGERPRINT_KEY_SECRET_ARN';
/** Environments ranked least trusted first, comma-separated (default ci,dev,staging,prod). */
export const ENVIRONMENT_ORDER = 'ENVIRONMENT_ORDER';
