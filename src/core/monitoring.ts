import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../../imports/prometheusrules-monitoring.coreos.com';
import { ServiceMonitor } from '../../imports/servicemonitors-monitoring.coreos.com';
import { Problem } from './names';
import { PortRole } from './pod-spec';
import type { StatefulWorkload } from './stateful-workload';

/** A Prometheus alerting rule. */
export interface AlertRule {
  /** Alert name, e.g. 'ZooKeeperNoLeader'. */
  readonly name: string;
  /** PromQL expression; the alert fires while it returns series. */
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
  /** One-line human summary. */
  readonly summary: string;
  /**
   * What the alert means and what to look at first (the `description` annotation).
   * @default - none
   */
  readonly description?: string;
  /**
   * Link to the runbook (the `runbook_url` annotation).
   * @default - none
   */
  readonly runbookUrl?: string;
}

/** Props of `MetricsMonitor`. */
export interface MetricsMonitorProps {
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
   * Scrape interval.
   * @default Duration.seconds(30)
   */
  readonly interval?: Duration;
  /**
   * Labels on the ServiceMonitor and PrometheusRule, for the Prometheus
   * instance's selectors (e.g. `{ release: 'kube-prometheus-stack' }`).
   * @default - the workload's standard labels only
   */
  readonly labels?: { [key: string]: string };
  /**
   * Alerting rules, rendered into a PrometheusRule.
   * @default - none
   */
  readonly alerts?: AlertRule[];
}

/**
 * Prometheus Operator objects for a workload: a ServiceMonitor that scrapes
 * every pod through the headless Service, and optionally a PrometheusRule.
 */
export class MetricsMonitor extends Construct {
  /** The ServiceMonitor (`monitoring.coreos.com/v1`). */
  public readonly serviceMonitor: ApiObject;
  /** The PrometheusRule (`monitoring.coreos.com/v1`), when alerts were given. */
  public readonly prometheusRule: ApiObject | undefined;

  public constructor(scope: Construct, id: string, props: MetricsMonitorProps) {
    super(scope, id);
    const problem = new Problem('MetricsMonitor', this);
    const w = props.workload;
    const port = props.port ?? w.ports.find((p) => p.role === PortRole.METRICS)?.name;
    if (!port) throw problem.error('port', `must name a port of '${w.name}'; it has no METRICS port (ports: ${w.ports.map((p) => p.name).join(', ')})`);
    w.port(port);
    const interval = (props.interval ?? Duration.seconds(30)).toSeconds();
    if (interval < 1) throw problem.error('interval', `must be at least 1 second, got ${interval}`);
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
    const alerts = props.alerts ?? [];
    const names = new Set<string>();
    for (const a of alerts) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(a.name)) throw problem.error('alerts', `alert name '${a.name}' must match [a-zA-Z_][a-zA-Z0-9_]*`);
      if (names.has(a.name)) throw problem.error('alerts', `has two alerts named '${a.name}'`);
      names.add(a.name);
    }
    this.prometheusRule = alerts.length === 0 ? undefined : new PrometheusRule(this, 'Rules', {
      metadata: { name: w.name, labels },
      spec: {
        groups: [{
          name: `${w.name}.rules`,
          rules: alerts.map((a) => ({
            alert: a.name,
            expr: PrometheusRuleSpecGroupsRulesExpr.fromString(a.expr),
            for: `${(a.pendingFor ?? Duration.minutes(5)).toSeconds()}s`,
            labels: { severity: a.severity ?? 'warning' },
            annotations: {
              summary: a.summary,
              ...(a.description ? { description: a.description } : {}),
              ...(a.runbookUrl ? { runbook_url: a.runbookUrl } : {}),
            },
          })),
        }],
      },
    });
  }
}
