/**
 * Entry point of the provider folders on the request path: the adapter for a provider type and the response
 * translator for a (client format × wire × operation) triple, both built from the descriptors
 * (providers/descriptors.ts; ADR 0046) when this module loads. Look them up when a config loads.
 */
import type { ProviderConfig, WireFormat } from '../../../contract/gateway-config.js';
import { WIRE_FORMATS } from '../../../contract/provider.js';
import { type ClientFormat, GatewayError } from '../errors.js';
import { anthropicBodyText } from './common/anthropic-out.js';
import { openAiBodyText } from './common/openai-out.js';
import { DESCRIPTORS } from './descriptors.js';
import type { Operation, ProviderAdapter, ResponseTranslator, TranslatorFactory, WireTranslators } from './types.js';

const ADAPTERS = new Map<string, ProviderAdapter>(Object.entries(DESCRIPTORS).map(([t, d]) => [t, d.adapter]));

/** The adapter for a provider type; GatewayError('internal', status 501) for types without an adapter. */
export function adapterFor(type: ProviderConfig['type']): ProviderAdapter {
  const a = ADAPTERS.get(type);
  if (a === undefined)
    throw new GatewayError('internal', `provider type ${type} is not implemented yet`, { status: 501 });
  return a;
}

/** True when the provider type has an adapter (the config loader can flag the others). */
export function isImplementedProviderType(type: ProviderConfig['type']): boolean {
  return ADAPTERS.has(type);
}

/** The translators of each wire, from the one descriptor that owns it (checked here: exactly one per wire). */
function wireTable(): Record<WireFormat, WireTranslators> {
  const owners = new Map<WireFormat, WireTranslators>();
  for (const d of Object.values(DESCRIPTORS)) {
    const t = d.translators;
    if (t === undefined) continue;
    if (owners.has(t.wire)) throw new Error(`two provider descriptors define the translators of wire ${t.wire}`);
    owners.set(t.wire, t);
  }
  const table = {} as Record<WireFormat, WireTranslators>;
  for (const wire of WIRE_FORMATS) {
    const t = owners.get(wire);
    if (t === undefined) throw new Error(`no provider descriptor defines the translators of wire ${wire}`);
    table[wire] = t;
  }
  return table;
}

const WIRES = wireTable();

export const translatorFor: TranslatorFactory = (
  clientFormat: ClientFormat,
  wire: WireFormat,
  operation: Operation,
): ResponseTranslator => {
  const t = WIRES[wire];
  if (operation === 'chat') return t.chat[clientFormat];
  const embeddings = t.embeddings?.[clientFormat];
  if (embeddings !== undefined) return embeddings;
  throw new GatewayError('unsupported_parameter', t.noEmbeddings, { param: 'model' });
};

/**
 * Client request headers that may reach an upstream (everything else the client sends stays at the gateway).
 * `anthropic-beta` opts a request into Anthropic beta features (the Anthropic adapter forwards it). Headers
 * scoped to the gateway's own credential (`openai-organization`, `openai-project`) are never forwarded.
 */
export const FORWARDED_CLIENT_HEADERS: readonly string[] = ['anthropic-beta'];

/** Picks the forwarded headers out of a client request; undefined (no allocation) when it has none. */
export function forwardedClientHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (let i = 0; i < FORWARDED_CLIENT_HEADERS.length; i++) {
    const name = FORWARDED_CLIENT_HEADERS[i]!;
    const v = headers[name];
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(',') : v;
    if (value === '') continue;
    if (out === undefined) out = {};
    out[name] = value;
  }
  return out;
}

/**
 * Whether the client asked for usage in its stream: OpenAI clients via stream_options.include_usage;
 * Anthropic streams always carry usage.
 */
export function clientWantsUsage(clientFormat: ClientFormat, body: Record<string, unknown>): boolean {
  if (clientFormat === 'anthropic') return true;
  const so = body.stream_options;
  return typeof so === 'object' && so !== null && (so as Record<string, unknown>).include_usage === true;
}

/**
 * The completion text of a response body in the client's format (what a non-streaming client got), as
 * translators' `outputText` gives it: text, tool names and arguments.
 */
export function clientBodyText(clientFormat: ClientFormat, body: unknown): string {
  return clientFormat === 'anthropic' ? anthropicBodyText(body) : openAiBodyText(body);
}

export type {
  Operation,
  ProviderAdapter,
  ResponseTranslator,
  StreamOptions,
  StreamTranslator,
  TranslateOptions,
  Usage,
} from './types.js';
