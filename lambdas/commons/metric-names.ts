// The custom metrics' names: a contract between the handlers that emit them (metrics.ts) and the
// construct's alarms and dashboard (METRIC in infra/token-rotation.ts). Apart from metrics.ts so
// the construct, and the package's declarations, need no Powertools.
export const METRIC_NAMES = {
  rotationSucceeded: 'RotationSucceeded',
  rotationFailed: 'RotationFailed',
  overdueSecrets: 'OverdueSecrets',
  sweepCompleted: 'SweepCompleted',
  sweepBacklog: 'SweepBacklog',
} as const;
