/** The operator's /metrics: unlabelled counters and gauges, encoded by contract/prometheus.ts. */
import { renderScalars } from '../../contract/prometheus.js';
import type { ControllerMetrics } from './controller.js';

export interface OperatorMetricsSource {
  readonly isLeader: boolean;
  readonly metrics: Readonly<ControllerMetrics>;
  /** Version of the config served (0: none). */
  readonly configVersion: number;
  /** Data-plane pods on the config stream. */
  readonly connectedDataplanes: number;
}

export function renderOperatorMetrics(s: OperatorMetricsSource): string {
  const m = s.metrics;
  return renderScalars([
    {
      name: 'tollgate_operator_is_leader',
      help: 'Whether this replica holds the Lease.',
      type: 'gauge',
      value: s.isLeader ? 1 : 0,
    },
    { name: 'tollgate_operator_reconciles_total', help: 'Reconcile runs.', type: 'counter', value: m.reconciles },
    {
      name: 'tollgate_operator_reconcile_errors_total',
      help: 'Reconcile runs that failed.',
      type: 'counter',
      value: m.reconcileErrors,
    },
    {
      name: 'tollgate_operator_status_writes_total',
      help: 'Status subresource writes.',
      type: 'counter',
      value: m.statusWrites,
    },
    {
      name: 'tollgate_operator_status_write_errors_total',
      help: 'Status writes that failed.',
      type: 'counter',
      value: m.statusWriteErrors,
    },
    {
      name: 'tollgate_operator_configs_published_total',
      help: 'Config snapshots pushed.',
      type: 'counter',
      value: m.configsPublished,
    },
    {
      name: 'tollgate_operator_config_version',
      help: 'Version of the config served.',
      type: 'gauge',
      value: s.configVersion,
    },
    {
      name: 'tollgate_operator_quota_usage_reads_total',
      help: 'Reads of quota counters for status.',
      type: 'counter',
      value: m.usageReads,
    },
    {
      name: 'tollgate_operator_quota_usage_read_errors_total',
      help: 'Reads of quota counters that failed.',
      type: 'counter',
      value: m.usageReadErrors,
    },
    {
      name: 'tollgate_operator_connected_dataplanes',
      help: 'Data-plane pods on the config stream.',
      type: 'gauge',
      value: s.connectedDataplanes,
    },
  ]);
}
