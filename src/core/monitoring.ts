import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../../imports/prometheusrules-monitoring.coreos.com';
import { ServiceMonitor } from '../../imports/servicemonitors-monitoring.coreos.com';
import { AlertScope, applyAlertOptions, DEFAULT_RUNBOOK_BASE_URL, kubernetesAlerts } from './alerts';
import { Problem } from './names';
import { PortRole } from './pod-spec';
import type { StatefulWorkload } from './stateful-workload';

/**
 * The number in an alert's expression that users may override: the
 * expression (and summary and description) write it as `$threshold`.
 */
export interface AlertThreshold {
  /** The default value. */
  readonly value: number;
  /** What the number measures, with its unit, e.g. 'percent of the volume free'. */
  readonly unit: string;
  /**
   * Smallest value an override may set.
   * @default 0
   */
  readonly min?: number;
  /**
   * Largest value an override may set.
   * @default - no upper bound
   */
  readonly max?: number;
}

/** A Prometheus alerting rule. */
export interface AlertRule {
  /** Alert name, e.g. 'ZooKeeperNoLeader'. */
  readonly name: string;
  /**
   * PromQL expression; the alert fires while it returns series. A rule with
   * a `threshold` writes the number as `$threshold`.
   */
  readonly expr: string;
  /**
   * How long the expression must hold before the alert fires.
   * @default Duration.minutes(5)
   */
  readonly pendingFor?: Duration;
  /**
   * `severity` label.
   * @default 'warning'
   */
  readonly severity?: string;
  /** One-line human summary (`$threshold` is replaced by the threshold). */
  readonly summary: string;
  /**
   * What the alert means and what to look at first (the `description` annotation).
   * @default - none
   */
  readonly description?: string;
  /**
   * Link to the runbook (the `runbook_url` annotation).
   * @default - `<runbookBaseUrl>#<name in lower case>` (see `MonitoringOptions.runbookBaseUrl`)
   */
  readonly runbookUrl?: string;
  /**
   * The number users may override with `MonitoringOptions.alertOverrides`.
   * @default - the rule has no threshold
   */
  readonly threshold?: AlertThreshold;
}

/** A user's change to one alert, in `MonitoringOptions.alertOverrides`. */
export interface AlertOverride {
  /**
   * `severity` label, e.g. 'critical', 'warning' or 'info'.
   * @default - the rule's severity
   */
  readonly severity?: string;
  /**
   * How long the condition must hold before the alert fires.
   * @default - the rule's
   */
  readonly pendingFor?: Duration;
  /**
   * The rule's threshold, in the unit the rule declares (see the rule list in the README).
   * @default - the rule's default
   */
  readonly threshold?: number;
}

/** Alert when the backups of a workload, taken by CronJobs, stop succeeding. */
export interface BackupAlertOptions {
  /** Names of the backup CronJobs, in the workload's namespace. */
  readonly cronJobs: string[];
  /** `BackupTooOld` fires when no CronJob of `cronJobs` succeeded for this long. */
  readonly maxAge: Duration;
}

/**
 * Prometheus scraping of a system's metrics endpoint, and how its alerts
 * are rendered. Every monitored system gets the StatefulSet, volume and
 * (with backups) backup-age alerts besides its own; see "Metrics and alerts"
 * in the README for the list.
 */
export interface MonitoringOptions {
  /**
   * Labels on the ServiceMonitor (and PrometheusRule), for the Prometheus
   * instance's selectors, e.g. `{ release: 'kube-prometheus-stack' }`.
   * @default - the system's standard labels only
   */
  readonly labels?: { [key: string]: string };
  /**
   * Scrape interval.
   * @default Duration.seconds(30)
   */
  readonly interval?: Duration;
  /**
   * Where the runbooks are: an alert without its own `runbookUrl` links to
   * `<runbookBaseUrl>#<alert name in lower case>`. Point it at a copy of
   * docs/runbooks.md that your on-call can reach (a wiki, an internal Git
   * server) to add your own notes.
   * @default 'https://github.com/cdk8s-stateful/cdk8s-stateful/blob/main/docs/runbooks.md'
   */
  readonly runbookBaseUrl?: string;
  /**
   * Labels on every alert, for Alertmanager routing, e.g.
   * `{ team: 'data', pager: 'db-oncall' }`. `severity` is set per rule (see
   * `alertOverrides`).
   * @default - none
   */
  readonly alertLabels?: { [key: string]: string };
  /**
   * Names of alerts not to render, e.g. `['StatefulSetUpdateNotRolledOut']`
   * when rollouts are held at a partition for days.
   * @default - every alert is rendered
   */
  readonly disabledAlerts?: string[];
  /**
   * Changes to single alerts, by alert name: severity, pendingFor, threshold.
   * @default - the rules as written
   */
  readonly alertOverrides?: { [alert: string]: AlertOverride };
}

/** Props of `MetricsMonitor`. */
export interface MetricsMonitorProps extends MonitoringOptions {
  /** The workload whose METRICS port is scraped. */
  readonly workload: StatefulWorkload;
  /**
   * Name of the port to scrape.
   * @default - the workload's first METRICS port
   */
  readonly port?: string;
  /**
   * HTTP path of the metrics.
   * @default '/metrics'
   */
  readonly path?: string;
  /**
   * The system's (or your) alerting rules, rendered into a PrometheusRule
   * beside the StatefulSet, volume and backup alerts every workload gets.
   * @default - none
   */
  readonly alerts?: AlertRule[];
  /**
   * Alert (`BackupTooOld`) when the workload's backup CronJobs stop succeeding.
   * @default - no backup alert
   */
  readonly backupAlert?: BackupAlertOptions;
}

/**
 * Prometheus Operator objects for a workload: a ServiceMonitor that scrapes
 * every pod through the headless Service, and a PrometheusRule with the
 * given alerts plus the StatefulSet and volume alerts of kube-state-metrics
 * and the kubelet (and `BackupTooOld` with `backupAlert`).
 */
export class MetricsMonitor extends Construct {
  /** Where alerts link to unless `runbookBaseUrl` is set: docs/runbooks.md of this project on GitHub. */
  public static readonly DEFAULT_RUNBOOK_BASE_URL: string = DEFAULT_RUNBOOK_BASE_URL;

  /** The ServiceMonitor (`monitoring.coreos.com/v1`). */
  public readonly serviceMonitor: ApiObject;
  /** The PrometheusRule (`monitoring.coreos.com/v1`), unless every alert is disabled. */
  public readonly prometheusRule: ApiObject | undefined;
  /** Names of the rendered alerts, in the order of the PrometheusRule. */
  public readonly alertNames: string[];
  /**
   * The rendered alerts as rules, with the user's overrides applied.
   * @internal
   */
  public readonly _rules: AlertRule[];

  public constructor(scope: Construct, id: string, props: MetricsMonitorProps) {
    super(scope, id);
    const w = props.workload;
    // a workload's own monitor reports errors as the workload's (the system's) `monitoring` prop
    const owned = scope === w;
    const problem = owned ? w.identity._problem : new Problem('MetricsMonitor', this);
    const option = (name: string) => (owned ? `monitoring.${name}` : name);
    const port = props.port ?? w.ports.find((p) => p.role === PortRole.METRICS)?.name;
    if (!port) throw problem.error('port', `must name a port of '${w.name}'; it has no METRICS port (ports: ${w.ports.map((p) => p.name).join(', ')})`);
    w.port(port);
    const interval = (props.interval ?? Duration.seconds(30)).toSeconds();
    if (interval < 1) throw problem.error(option('interval'), `must be at least 1 second, got ${interval}`);
    const labels = { ...w.labels, ...(props.labels ?? {}) };
    this.serviceMonitor = new ServiceMonitor(this, 'ServiceMonitor', {
      metadata: { name: w.name, labels },
      spec: {
        selector: { matchLabels: w.selectorLabels },
        ...(w.namespaceName ? { namespaceSelector: { matchNames: [w.namespaceName] } } : {}),
        endpoints: [{
          port,
          path: props.path ?? '/metrics',
          interval: `${interval}s`,
          scrapeTimeout: `${Math.max(1, Math.min(10, interval - 1))}s`,
          honorLabels: false,
        }],
      },
    });

    const scopeOfAlerts: AlertScope = {
      namespace: w.namespaceName,
      statefulSet: w.name,
      claimTemplates: w.claimTemplates,
      backup: props.backupAlert,
    };
    const groups = applyAlertOptions(problem, option, props, [
      { name: `${w.name}.rules`, rules: props.alerts ?? [], prop: 'alerts' },
      { name: `${w.name}.kubernetes.rules`, rules: kubernetesAlerts(problem, 'backupAlert', scopeOfAlerts), prop: 'backupAlert', builtIn: true },
    ]).filter((g) => g.rules.length > 0);
    this._rules = groups.flatMap((g) => g.rules);
    this.alertNames = this._rules.map((r) => r.name);
    this.prometheusRule = groups.length === 0 ? undefined : new PrometheusRule(this, 'Rules', {
      metadata: { name: w.name, labels },
      spec: {
        groups: groups.map((g) => ({
          name: g.name,
          rules: g.rendered.map((r) => ({ ...r, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr) })),
        })),
      },
    });
  }
}
