/**
 * Entry point of the provider folders: the adapter for a provider type and the response translator for a
 * (client format × wire × operation) triple. Both are static tables: look them up when a config loads.
 */
import type { ProviderConfig, WireFormat } from '../../../contract/gateway-config.js';
import { type ClientFormat, GatewayError } from '../errors.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { anthropicToAnthropic } from './anthropic/anthropic-to-anthropic.js';
import { anthropicToOpenAi } from './anthropic/anthropic-to-openai.js';
import { azureOpenAiAdapter } from './azure-openai/adapter.js';
import { bedrockAdapter } from './bedrock/adapter.js';
import { bedrockToAnthropic } from './bedrock/bedrock-to-anthropic.js';
import { bedrockToOpenAi } from './bedrock/bedrock-to-openai.js';
import { anthropicBodyText } from './common/anthropic-out.js';
import { openAiBodyText } from './common/openai-out.js';
import { geminiAdapter } from './gemini/adapter.js';
import { geminiToAnthropic } from './gemini/gemini-to-anthropic.js';
import { geminiToOpenAi } from './gemini/gemini-to-openai.js';
import { openAiAdapter } from './openai/adapter.js';
import { openAiToAnthropic } from './openai/openai-to-anthropic-response.js';
import { openAiEmbeddings, openAiToOpenAi } from './openai/openai-to-openai.js';
import { openAiCompatibleAdapter } from './openai-compatible/adapter.js';
import type { Operation, ProviderAdapter, ResponseTranslator, TranslatorFactory } from './types.js';
import { vertexAdapter } from './vertex/adapter.js';

const ADAPTERS: Partial<Record<ProviderConfig['type'], ProviderAdapter>> = {
  openai: openAiAdapter,
  'openai-compatible': openAiCompatibleAdapter,
  'azure-openai': azureOpenAiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  'vertex-ai': vertexAdapter,
  bedrock: bedrockAdapter,
};

/** The adapter for a provider type; GatewayError('internal', status 501) for types without an adapter. */
export function adapterFor(type: ProviderConfig['type']): ProviderAdapter {
  const a = ADAPTERS[type];
  if (a === undefined)
    throw new GatewayError('internal', `provider type ${type} is not implemented yet`, { status: 501 });
  return a;
}

/** True when the provider type has an adapter (the config loader can flag the others). */
export function isImplementedProviderType(type: ProviderConfig['type']): boolean {
  return ADAPTERS[type] !== undefined;
}

const CHAT: Record<ClientFormat, Record<WireFormat, ResponseTranslator>> = {
  openai: { openai: openAiToOpenAi, anthropic: anthropicToOpenAi, gemini: geminiToOpenAi, bedrock: bedrockToOpenAi },
  anthropic: {
    openai: openAiToAnthropic,
    anthropic: anthropicToAnthropic,
    gemini: geminiToAnthropic,
    bedrock: bedrockToAnthropic,
  },
};

export const translatorFor: TranslatorFactory = (
  clientFormat: ClientFormat,
  wire: WireFormat,
  operation: Operation,
): ResponseTranslator => {
  if (operation === 'chat') return CHAT[clientFormat][wire];
  if (clientFormat === 'openai' && wire === 'openai') return openAiEmbeddings;
  throw new GatewayError(
    'unsupported_parameter',
    wire === 'anthropic'
      ? 'model: Anthropic has no embeddings API; route this model to an OpenAI-wire provider'
      : wire === 'gemini' || wire === 'bedrock'
        ? `model: embeddings from a ${wire} provider are not implemented yet; route them elsewhere`
        : 'embeddings are only served in the OpenAI format',
    { param: 'model' },
  );
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
