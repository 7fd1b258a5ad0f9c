import type { ControllerMetrics } from './controller.js';
import { renderOperatorMetrics } from './metrics.js';

const metrics: ControllerMetrics = {
  reconciles: 7,
  reconcileErrors: 1,
  statusWrites: 12,
  statusWriteErrors: 0,
  configsPublished: 3,
  usageReads: 5,
  usageReadErrors: 2,
};

describe('operator /metrics', () => {
  test('every counter and gauge, named and typed, with the controller values', () => {
    const text = renderOperatorMetrics({
      isLeader: true,
      metrics,
      configVersion: 1733300000123,
      connectedDataplanes: 2,
    });
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples).toEqual([
      'tollgate_operator_is_leader 1',
      'tollgate_operator_reconciles_total 7',
      'tollgate_operator_reconcile_errors_total 1',
      'tollgate_operator_status_writes_total 12',
      'tollgate_operator_status_write_errors_total 0',
      'tollgate_operator_configs_published_total 3',
      'tollgate_operator_config_version 1733300000123',
      'tollgate_operator_quota_usage_reads_total 5',
      'tollgate_operator_quota_usage_read_errors_total 2',
      'tollgate_operator_connected_dataplanes 2',
    ]);
    expect(text).toContain('# TYPE tollgate_operator_is_leader gauge\n');
    expect(text).toContain('# TYPE tollgate_operator_reconciles_total counter\n');
    expect(text.endsWith('\n')).toBe(true);
    expect(renderOperatorMetrics({ isLeader: false, metrics, configVersion: 0, connectedDataplanes: 0 })).toContain(
      '\ntollgate_operator_is_leader 0\n',
    );
  });
});
