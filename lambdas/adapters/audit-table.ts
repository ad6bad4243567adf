// The audit table's key design, shared by the DynamoDB adapters and the CDK construct.
//
// One table, four kinds of item:
//   audit record   pk = SECRET#<secret ARN>   sk = SEQ#<seq, 12 digits>   (+ day, event, at)
//   alert          pk = ALERT#<secret ARN>    sk = <event>#<incident>      (the outbox: pending until
//                                                                           SNS accepts it, then a
//                                                                           mark with expiresAt TTL)
//   chain head     pk = SECRET#<secret ARN>   sk = HEAD                    (seq, hash of the newest record)
//   suite state    pk = STATE#<name>          sk = <key>                   (sweep cursor, revoke locks)
//   token use      pk = USE#<secret ARN>      sk = <version ID>            (lastUsedAt, usedBy: the
//                                                                           previous token's last use,
//                                                                           as consumers' verifiers
//                                                                           record it; never the token)
//   token index    pk = FP#<keyed fingerprint> sk = <secret ARN>#<version ID> (secretName, stage,
//                                                                           environment, firstSeen,
//                                                                           lastSeen, revokedAt: every
//                                                                           token the suite has seen,
//                                                                           under its keyed fingerprint
//                                                                           (#domain/keyed-fingerprint);
//                                                                           never the token)
//   index memory   pk = STATE#token-index      sk = <secret ARN>           (versions: version ID ->
//                                                                           fingerprint and stages, as
//                                                                           the sweep last indexed them)
//
// Token index items (#adapters/dynamodb-token-index) hold exactly the IndexedToken fields: stages
// is a string LIST (DynamoDB "L" of "S", possibly empty; not a string set, which cannot be empty),
// times are ISO-8601 strings, environment and revokedAt are absent when unknown. They never carry
// `day` or `event` (IAM's dynamodb:Attributes condition on the functions' grant enforces it), so
// they stay out of byTime and byEvent. The leak scanner reads them with a Query on FP#<fp>.
//
// Questions the trail answers with Query, never Scan (SPEC "Audit trail"):
//   one secret's history in order   -> table:   pk = SECRET#arn, sk ascending/descending
//   everything in a time range      -> byTime:  day = YYYY-MM-DD (one query per day), at BETWEEN
//   one event type in a time range  -> byEvent: event = <type>, at BETWEEN
//   undelivered alerts                -> byEvent:  event = OUTBOX_EVENT (only while pending)
// Only audit records carry `day`, and `event` only audit records and pending alerts, so marks and
// state stay out of both indexes.

export const AUDIT_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  byTimeIndex: 'byTime',
  byTimePartitionKey: 'day',
  byEventIndex: 'byEvent',
  byEventPartitionKey: 'event',
  /** Sort key of both indexes: ISO-8601 time of the record. */
  indexSortKey: 'at',
  ttlAttribute: 'expiresAt',
} as const;

export const secretPk = (secretArn: string) => `SECRET#${secretArn}`;
export const SEQ_PREFIX = 'SEQ#';
export const seqSk = (seq: number) => `${SEQ_PREFIX}${String(seq).padStart(12, '0')}`;
/** The chain's head, mirrored beside it: a chain cut short is told from one never longer. */
export const HEAD_SK = 'HEAD';
export const alertPk = (secretArn: string) => `ALERT#${secretArn}`;
export const statePk = (name: string) => `STATE#${name}`;
/** Consumers may write only here (IAM's dynamodb:LeadingKeys), never audit records. */
export const usePk = (secretArn: string) => `USE#${secretArn}`;

/** One token's index partition: every secret version that held it (a Query, never a Scan). */
export const fingerprintPk = (keyedFingerprint: string) => `FP#${keyedFingerprint}`;
export const fingerprintSk = (secretArn: string, versionId: string) => `${secretArn}#${versionId}`;
/** The sweep's memory of what it indexed per secret (a suite-state partition). */
export const TOKEN_INDEX_STATE = 'token-index';
/** Every attribute a token index item may carry (the functions' grant allows these only). */
export const TOKEN_INDEX_ATTRIBUTES = [
  'fingerprint',
  'secretArn',
  'secretName',
  'versionId',
  'stages',
  'environment',
  'firstSeen',
  'lastSeen',
  'revokedAt',
] as const;

/** The byEvent partition of pending alerts (never an audit event type: records cannot carry it). */
export const OUTBOX_EVENT = 'alert.undelivered';
