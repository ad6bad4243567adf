// The suite's own CloudWatch metrics, as the handlers emit them with Powertools Metrics: namespace
// from POWERTOOLS_METRICS_NAMESPACE, dimension `service` = POWERTOOLS_SERVICE_NAME. Renaming one
// silences an alarm, so the names come from the handlers' own list (lambdas/commons/metrics.ts).
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMES } from '#commons/metric-names';
import { SERVICE_NAME } from './support.ts';

/** The metrics the alarms and the dashboard read, in one namespace. */
export class SuiteMetrics {
  constructor(readonly namespace: string) {}

  /** Count of rotations that promoted a new token. */
  rotationSucceeded(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.rotationSucceeded, { statistic: 'Sum', ...options });
  }

  /** Count of failed rotation steps. */
  rotationFailed(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.rotationFailed, { statistic: 'Sum', ...options });
  }

  /** Opted-in secrets past their lifespan, as counted by the latest sweep. */
  overdueSecrets(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.overdueSecrets, { statistic: 'Maximum', ...options });
  }

  /** Sweeps that completed a full pass (1) or stopped at their deadline (0), per invocation. */
  sweepCompleted(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.sweepCompleted, { statistic: 'Sum', ...options });
  }

  /** Opted-in secrets a sweep pass had yet to reach when an invocation ended (0: it finished). */
  sweepBacklog(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.sweepBacklog, { statistic: 'Maximum', ...options });
  }

  private metric(metricName: string, options: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { service: SERVICE_NAME },
      ...options,
    });
  }
}
