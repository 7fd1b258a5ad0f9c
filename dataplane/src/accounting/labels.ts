/**
 * The label tables of accounting, rebuilt when a config loads: prices, providers by id, and the bounded
 * `backend` metric labels; plus the OTel GenAI provider names.
 */
import type { GatewayConfig, ProviderConfig } from '../../../contract/gateway-config.js';
import { GENAI_PROVIDER_NAMES } from '../providers/configs.js';
import { buildPriceIndex, type PriceIndex } from './cost.js';

/** OTel GenAI `gen_ai.provider.name` values for our provider types (from providers/<type>/config.ts). */
export const GENAI_PROVIDER: Record<ProviderConfig['type'], string> = GENAI_PROVIDER_NAMES;

export interface Tables {
  prices: PriceIndex;
  providers: ReadonlyMap<string, ProviderConfig>;
  /** Per provider id: the models whose name may be a metric label (see backendLabel). */
  labelled: ReadonlyMap<string, ProviderLabels>;
}

/** Metric `backend` labels of one provider, built when the config loads. */
interface ProviderLabels {
  /** Model → `<provider>/<model>`: the provider's `models` catalogue, models route backends fix, exact route models. */
  readonly known: Map<string, string>;
  /** `<provider>/*`: any other model (a prefix route passing the client's model name through). */
  readonly other: string;
}

export function emptyTables(): Tables {
  return { prices: new Map(), providers: new Map(), labelled: new Map() };
}

export function buildTables(config: GatewayConfig): Tables {
  const providers = new Map<string, ProviderConfig>();
  for (const p of config.providers) providers.set(p.id, p);
  return { prices: buildPriceIndex(config), providers, labelled: buildLabels(config) };
}

/**
 * The `backend` metric label: `<provider>/<model>` when the model is in the provider's catalogue, fixed by
 * a route backend, or an exact model name of a route passing it to the provider; else `<provider>/*`. Client-chosen model names (prefix routes with no backend model)
 * would otherwise make label sets, and memory, grow without bound. Logs and spans keep the real model.
 */
export function backendLabel(tables: Tables, provider: ProviderConfig | undefined, model: string | undefined): string {
  if (provider === undefined) return '';
  const l = tables.labelled.get(provider.id);
  if (l === undefined) return `${provider.name}/*`;
  return (model !== undefined ? l.known.get(model) : undefined) ?? l.other;
}

function buildLabels(config: GatewayConfig): Map<string, ProviderLabels> {
  const out = new Map<string, ProviderLabels>();
  for (const p of config.providers) {
    const known = new Map<string, string>();
    for (const m of p.models) known.set(m.name, `${p.name}/${m.name}`);
    out.set(p.id, { known, other: `${p.name}/*` });
  }
  const add = (l: ProviderLabels, model: string) => {
    if (!l.known.has(model)) l.known.set(model, `${l.other.slice(0, -1)}${model}`);
  };
  for (const r of config.routes)
    for (const b of r.backends) {
      const l = out.get(b.provider);
      if (l === undefined) continue;
      if (b.model !== undefined) add(l, b.model);
      // The client's model passes through: bounded when the route lists it exactly, not for a prefix.
      else for (const m of r.models) if (!m.prefix) add(l, m.name);
    }
  return out;
}
