// What people watch: the rotation-failures alarm and the dashboard (rotations, failures, overdue
// secrets, every alarm, and each function's health).
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { Alerting } from './alerting.ts';
import { keepParentLogicalIds } from './logical-ids.ts';
import type { SuiteMetrics } from './metrics.ts';
import type { SuiteFunctions } from './suite-functions.ts';

export interface MonitoringProps {
  readonly metrics: SuiteMetrics;
  readonly alerting: Alerting;
  /** The functions' alarms and health graphs. */
  readonly functions: SuiteFunctions;
  /** The period of the sweep's graphs: one sweep interval. */
  readonly sweepInterval: Duration;
}

/** The rotation-failures alarm and the dashboard `Dashboard`. */
export class Monitoring extends Construct {
  /** Rotations, failures, overdue secrets and function health. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const rotationFailures = new cloudwatch.Alarm(this, 'RotationFailuresAlarm', {
      alarmName: props.alerting.alarmName('rotation-failures'),
      alarmDescription:
        'At least one rotation failed in the last 5 minutes. Each failed secret has its own alert e-mail with what to do; the audit trail lists them (event rotation.failed).',
      metric: props.metrics.rotationFailed({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    props.functions.addAlarm(rotationFailures);
    this.dashboard = this.createDashboard(props);
  }

  private createDashboard(props: MonitoringProps): cloudwatch.Dashboard {
    const { metrics, sweepInterval } = props;
    const hour = Duration.hours(1);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
    });
    dashboard.addWidgets(
      halfWidthGraph('Rotations per hour', [
        metrics.rotationSucceeded({ period: hour, label: 'succeeded' }),
        metrics.rotationFailed({ period: hour, label: 'failed' }),
      ]),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: props.functions.alarms,
        width: 12,
      }),
    );
    dashboard.addWidgets(
      halfWidthGraph('Overdue secrets (latest sweep)', [
        metrics.overdueSecrets({ period: sweepInterval, label: 'overdue' }),
        metrics.sweepCompleted({ period: sweepInterval, label: 'sweeps completed' }),
      ]),
      new cloudwatch.TextWidget({
        markdown:
          '**Overdue secrets** is emitted by the sweep at each run: opted-in secrets whose live token is older than their lifespan. Anything above zero for more than one sweep interval needs a look: the alert e-mails name each secret.',
        width: 12,
      }),
    );
    dashboard.addWidgets(...props.functions.healthWidgets);
    return dashboard;
  }
}

/** A graph of `metrics` on the left axis, half the dashboard's width (12 of its 24 columns). */
const halfWidthGraph = (title: string, metrics: cloudwatch.IMetric[]) =>
  new cloudwatch.GraphWidget({ title, left: metrics, width: 12 });
