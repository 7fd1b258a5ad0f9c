/** `tollgate operator` flags, parsed once into a frozen object (pure: env and files are passed in). */
import { parseArgs } from 'node:util';
import { parseRedisUrl } from '../../contract/redis-url.js';
import { isDuration, parseDuration } from '../../dataplane/src/config/duration.js';

export const OPERATOR_USAGE = `tollgate operator [flags]

The Kubernetes controller: watches LLMProvider, LLMRoute, QuotaPolicy and their Secrets, translates them
into the gateway config, pushes it to every data-plane pod over TLS and reports status conditions.

Flags:
  --kubeconfig <path>           kubeconfig to use (default: in-cluster, else $KUBECONFIG, else ~/.kube/config)
  --namespaces <a,b,...>        namespaces to watch (default: all)
  --config-listen <[host]:port> config channel for data-plane pods, TLS (default :9443)
  --health-listen <[host]:port> /healthz, /readyz, /metrics over plain HTTP (default :8081)
  --leader-elect <bool>         elect a leader on a Lease; only the leader serves config and writes status (default true)
  --lease-namespace <ns>        namespace of the Lease and of the operator's Secrets
                                (default: $POD_NAMESPACE, the in-cluster namespace, else "default")
  --lease-name <name>           Lease name (default tollgate-operator)
  --lease-duration <dur>        how long a standby waits without renewals before taking over (default 15s)
  --renew-deadline <dur>        a leader that cannot renew for this long steps down (default 10s)
  --retry-period <dur>          renew / campaign interval (default 2s)
  --pod-name <name>             identity in the Lease (default: $POD_NAME, else the hostname)
  --tls-secret <name>           Secret holding the config channel's CA and serving certificate; created
                                when missing (default tollgate-operator-tls)
  --tls-hosts <a,b,...>         names in the serving certificate (default: tollgate-operator,
                                tollgate-operator.<ns>, tollgate-operator.<ns>.svc, localhost, 127.0.0.1)
  --snapshot-secret <name>      Secret the latest config is persisted to for pods booting while the
                                operator is down; "" disables (default tollgate-config-snapshot)
  --dataplane-service-accounts <ns/name,...>
                                ServiceAccounts allowed on the config channel (default <ns>/tollgate-dataplane)
  --require-keys <bool>         every request needs an API key, even when none exist (default true)
  --redis <url>                 the Redis the data plane keeps quota counters in (redis:// or rediss://);
                                QuotaPolicy status then shows usage per limit. Without it: no usage in status
                                (default: $TOLLGATE_REDIS_URL, which keeps a password out of the pod spec)
  --quota-status-interval <dur> how often QuotaPolicy usage is read and written to status (default 30s, min 1s)
  --help                        show this help
`;

export interface OperatorFlags {
  kubeconfig?: string;
  namespaces?: string[];
  configListen: { host?: string; port: number };
  healthListen: { host?: string; port: number };
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  podName: string;
  tlsSecret: string;
  tlsHosts: string[];
  snapshotSecret?: string;
  dataPlaneServiceAccounts: string[];
  requireKeys: boolean;
  redis?: string;
  quotaStatusIntervalMs: number;
}

export type ParsedFlags = { help: true } | { help: false; flags: Readonly<OperatorFlags> };

export interface FlagEnv {
  env: Record<string, string | undefined>;
  inClusterNamespace?: string;
  hostname: string;
}

export function parseListen(value: string, flag: string): { host?: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?)?:(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port > 65535) throw new Error(`${flag}: expected [host]:port, got "${value}"`);
  return m[1] ? { host: m[1], port } : { port };
}

function bool(value: string, flag: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`${flag}: expected true or false, got "${value}"`);
}

function duration(value: string, flag: string): number {
  if (!isDuration(value)) throw new Error(`${flag}: expected a duration like 500ms, 15s or 1m, got "${value}"`);
  return parseDuration(value);
}

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function parseOperatorFlags(args: string[], e: FlagEnv): ParsedFlags {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      kubeconfig: { type: 'string' },
      namespaces: { type: 'string' },
      'config-listen': { type: 'string', default: ':9443' },
      'health-listen': { type: 'string', default: ':8081' },
      'leader-elect': { type: 'string', default: 'true' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string', default: 'tollgate-operator' },
      'lease-duration': { type: 'string', default: '15s' },
      'renew-deadline': { type: 'string', default: '10s' },
      'retry-period': { type: 'string', default: '2s' },
      'pod-name': { type: 'string' },
      'tls-secret': { type: 'string', default: 'tollgate-operator-tls' },
      'tls-hosts': { type: 'string' },
      'snapshot-secret': { type: 'string', default: 'tollgate-config-snapshot' },
      'dataplane-service-accounts': { type: 'string' },
      'require-keys': { type: 'string', default: 'true' },
      redis: { type: 'string' },
      'quota-status-interval': { type: 'string', default: '30s' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const ns = values['lease-namespace'] || e.env.POD_NAMESPACE || e.inClusterNamespace || 'default';
  const namespaces = values.namespaces ? list(values.namespaces) : undefined;
  const leaseDurationMs = duration(values['lease-duration'], '--lease-duration');
  const renewDeadlineMs = duration(values['renew-deadline'], '--renew-deadline');
  const retryPeriodMs = duration(values['retry-period'], '--retry-period');
  if (!(retryPeriodMs < renewDeadlineMs && renewDeadlineMs < leaseDurationMs)) {
    throw new Error('need --retry-period < --renew-deadline < --lease-duration');
  }
  const sas = values['dataplane-service-accounts']
    ? list(values['dataplane-service-accounts'])
    : [`${ns}/tollgate-dataplane`];
  for (const sa of sas) {
    if (!/^[a-z0-9.-]+\/[a-z0-9.-]+$/.test(sa))
      throw new Error(`--dataplane-service-accounts: "${sa}" is not namespace/name`);
  }
  const quotaStatusIntervalMs = duration(values['quota-status-interval'], '--quota-status-interval');
  if (quotaStatusIntervalMs < 1000) throw new Error('--quota-status-interval: at least 1s');
  const redis = parseRedisUrl(values.redis, e.env);
  if (!redis.ok) throw new Error(redis.message);
  const flags: OperatorFlags = {
    configListen: parseListen(values['config-listen'], '--config-listen'),
    healthListen: parseListen(values['health-listen'], '--health-listen'),
    leaderElect: bool(values['leader-elect'], '--leader-elect'),
    leaseNamespace: ns,
    leaseName: values['lease-name'],
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    podName: values['pod-name'] || e.env.POD_NAME || e.hostname,
    tlsSecret: values['tls-secret'],
    tlsHosts: values['tls-hosts']
      ? list(values['tls-hosts'])
      : ['tollgate-operator', `tollgate-operator.${ns}`, `tollgate-operator.${ns}.svc`, 'localhost', '127.0.0.1'],
    dataPlaneServiceAccounts: sas,
    requireKeys: bool(values['require-keys'], '--require-keys'),
    quotaStatusIntervalMs,
  };
  if (redis.value) flags.redis = redis.value;
  if (values.kubeconfig) flags.kubeconfig = values.kubeconfig;
  if (namespaces?.length) flags.namespaces = namespaces;
  if (values['snapshot-secret']) flags.snapshotSecret = values['snapshot-secret'];
  return { help: false, flags: Object.freeze(flags) };
}
