// CloudWatch metrics (embedded metric format) that the construct's alarms and dashboard read.
// Names and the namespace are a contract with infra/token-rotation.ts (METRIC there).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from './env-names.ts';

export { METRIC_NAMES } from './metric-names.ts';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** The part of Powertools Metrics the handlers use, so tests can pass a recorder. */
export interface MetricsSink {
  addMetric(name: string, unit: Unit, value: number): void;
  publishStoredMetrics(): void;
}

export { MetricUnit };

/** The deployed handlers' metrics: namespace and service come from the construct's env. */
export function createMetrics(): MetricsSink {
  return new Metrics({
    namespace: process.env[POWERTOOLS_METRICS_NAMESPACE] ?? 'TokenRotation',
    serviceName: process.env[POWERTOOLS_SERVICE_NAME] ?? 'token-rotation',
  });
}
