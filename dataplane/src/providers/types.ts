/**
 * The contract between the proxy core (I/O) and the provider folders (pure translation).
 * Translators return data; they never touch sockets, timers or the clock.
 */
import type { ProviderConfig, WireFormat } from '../../../contract/gateway-config.js';
import type { ClientFormat, GatewayError } from '../errors.js';
import type { SseEvent } from '../sse/sse.js';
import type { AnyProviderTypeConfig } from './type-config.js';

/** What the client asked for: chat (OpenAI chat.completions or Anthropic messages) or embeddings. */
export type Operation = 'chat' | 'embeddings';

/**
 * Canonical token usage of one response. `inputTokens` is ALL input tokens, cache reads and cache writes
 * included (OpenAI `prompt_tokens` semantics; for Anthropic it is input_tokens + cache_read_input_tokens +
 * cache_creation_input_tokens). So an exact cost is:
 *   (inputTokens - cachedInputTokens - cacheCreationTokens) × input
 *   + cachedInputTokens × cachedInput + cacheCreationTokens × cacheWrite + outputTokens × output.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the prompt cache (OpenAI cached_tokens, Anthropic cache_read_input_tokens). */
  cachedInputTokens: number;
  /** Input tokens written to the prompt cache (Anthropic cache_creation_input_tokens). */
  cacheCreationTokens: number;
  /** Reasoning tokens (part of output, billed as output). */
  reasoningTokens: number;
  /** True when the provider reported none and a tokenizer estimated it. */
  estimated: boolean;
}

/** One upstream HTTP request, fully built. */
export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface BuildRequestInput {
  provider: ProviderConfig;
  operation: Operation;
  clientFormat: ClientFormat;
  /** The client's parsed, validated JSON body. Not mutated. */
  body: Record<string, unknown>;
  /** Model name to send upstream. */
  upstreamModel: string;
  stream: boolean;
  /**
   * Client request headers an adapter may forward, only those named in FORWARDED_CLIENT_HEADERS
   * (providers/index.ts), names lower-cased; absent when the client sent none of them.
   */
  clientHeaders?: Readonly<Record<string, string>>;
  /**
   * The credential to send, as proxy/credentials.ts resolved it (a fresh OAuth access token for `vertex-ai`;
   * `provider.credential` itself for static keys). Absent: adapters use `provider.credential`.
   */
  credential?: string;
  /**
   * Epoch seconds of this attempt, for adapters that sign requests with the time (bedrock SigV4 `x-amz-date`).
   * Absent: such adapters read the clock.
   */
  now?: number;
}

/**
 * Turns an upstream stream's bytes into events (any chunking in, whole events out): SseParser for SSE wires,
 * the AWS event-stream decoder for bedrock. Throws GatewayError('upstream_bad_response') on garbage.
 */
export interface StreamDecoder {
  push(chunk: Uint8Array): SseEvent[];
  /** The input ended: any last event the framing allows without a terminator. */
  end(): SseEvent[];
  /** True when bytes of an unfinished event are pending (a stream cut mid-event). */
  readonly pending: boolean;
}

/** Per-provider-type request building: URL, auth headers, body translation. Pure. */
export interface ProviderAdapter {
  readonly wire: WireFormat;
  /**
   * The wire for one upstream model, when it depends on the model (vertex-ai: `claude-*` speak `anthropic`,
   * other models `gemini`). Absent: always `wire`.
   */
  wireFor?(upstreamModel: string): WireFormat;
  /** Throws GatewayError('unsupported_parameter', ...) for a parameter the target cannot take. */
  buildRequest(input: BuildRequestInput): UpstreamRequest;
  /** A fresh decoder for one streamed answer, when the wire is not SSE (bedrock). Absent: SseParser. */
  streamDecoder?(): StreamDecoder;
}

/** Facts about the exchange that error mapping names; passed in because translators hold no per-request state. */
export interface UpstreamErrorContext {
  /** `namespace/name` of the LLMProvider that answered (named when the provider, not the request, is at fault). */
  provider?: string;
}

/** Per-request inputs that would otherwise make translation read the clock. */
export interface TranslateOptions {
  /**
   * Epoch seconds for the `created` field of OpenAI objects synthesized from another wire; the proxy passes
   * one value per request. Absent: read from the clock (tests and callers outside the proxy).
   */
  now?: number;
  /**
   * The model to report when the provider's answer names none (Bedrock's Converse answer has no model field):
   * the model the client asked for. Absent: ''.
   */
  model?: string;
  /**
   * The client's request body (read-only), for answers shaped by a request field (embeddings
   * `encoding_format`). Absent: defaults apply.
   */
  request?: Readonly<Record<string, unknown>>;
}

export interface StreamOptions extends TranslateOptions {
  clientWantsUsage: boolean;
  clientModel: string;
}

/** One translated non-streaming response. */
export interface TranslatedResponse {
  /** The body the client gets. */
  body: unknown;
  usage: Usage | undefined;
  /** The model the provider reported. */
  responseModel: string | undefined;
  /**
   * The completion text the client got (text, tool names and arguments), for estimating output tokens; set
   * only when `usage` is undefined (no work when the provider reported usage).
   */
  outputText?: string | undefined;
}

/** Translation of one response (or one stream) from the provider's wire format to the client's format. */
export interface ResponseTranslator {
  /** Non-streaming success body (parsed JSON) → client body, usage, the model the provider reported. */
  response(body: unknown, options?: TranslateOptions): TranslatedResponse;
  /** A fresh stateful translator for one stream. */
  stream(options: StreamOptions): StreamTranslator;
  /** A non-2xx upstream answer → the coded error the client sees (keeps the upstream's message). */
  error(
    status: number,
    bodyText: string,
    headers: Record<string, string | string[] | undefined>,
    context?: UpstreamErrorContext,
  ): GatewayError;
}

export interface StreamTranslator {
  /** One upstream event → zero or more client-format events. Throws GatewayError on garbage. */
  event(ev: SseEvent): SseEvent[];
  /** Upstream ended cleanly; returns any closing events the client format needs. */
  end(): SseEvent[];
  /** Usage seen so far (complete once the terminal event arrived). */
  usage(): Usage | undefined;
  /** The model the provider reported in the stream. */
  responseModel(): string | undefined;
  /**
   * The completion text the client received so far (text, tool names and arguments), for estimating output
   * tokens when the provider reported no usage. Translators keep references to the deltas and join them
   * only here. Absent: the translator does not collect it (output is then not estimated).
   */
  outputText?(): string;
  /** True once the upstream's terminal event arrived; a stream that ends before that was truncated. */
  readonly done: boolean;
  /** Set when the upstream sent an error event mid-stream (already turned into a client-format event). */
  readonly error?: GatewayError | undefined;
}

export type TranslatorFactory = (
  clientFormat: ClientFormat,
  wire: WireFormat,
  operation: Operation,
) => ResponseTranslator;

/** The translators of one wire, owned by the provider folder that defines the wire (ADR 0046). */
export interface WireTranslators {
  readonly wire: WireFormat;
  /** Chat answers (and streams, errors) of this wire, per client format. */
  readonly chat: Readonly<Record<ClientFormat, ResponseTranslator>>;
  /** Embeddings answers per client format that can have them from this wire; absent: none. */
  readonly embeddings?: Readonly<Partial<Record<ClientFormat, ResponseTranslator>>>;
  /** The 400 `unsupported_parameter` message when embeddings are routed here and there are none. */
  readonly noEmbeddings: string;
}

/**
 * A Secret value that is a key to exchange for short-lived access tokens (a Google service-account key), as
 * proxy/credentials.ts performs it: parse once, build a token request, read the answer. Pure; `A` is the
 * parsed key. Methods, so a specific `A` widens to `TokenExchange<unknown>` in descriptor lists.
 */
export interface TokenExchange<A = unknown> {
  /** What the key is called in messages (`service-account key`). */
  readonly keyName: string;
  /** True when the Secret value is such a key; anything else is sent as it is. */
  applies(credential: string): boolean;
  parse(credential: string): { ok: true; account: A } | { ok: false; problem: string };
  /** The token request (form body) for one exchange at `nowS` (epoch seconds). */
  request(account: A, nowS: number): { url: string; body: string };
  /** The token endpoint's answer; throws a GatewayError naming `providerId` when it refused. */
  answer(status: number, text: string, providerId: string): { accessToken: string; expiresInS: number };
}

/**
 * One provider type, whole: its config half (providers/<type>/config.ts, what contract/ and config/ may see),
 * the adapter that builds its requests, the translators of the wire it owns, and how its credential is
 * turned into what is sent. Only the data plane's request path imports descriptors (providers/descriptors.ts).
 */
export interface ProviderDescriptor {
  readonly config: AnyProviderTypeConfig;
  readonly adapter: ProviderAdapter;
  /** Present on the folder that defines a wire (openai, anthropic, gemini, bedrock); the others reuse one. */
  readonly translators?: WireTranslators;
  /** Present when a Secret value may be a key to exchange for tokens (vertex-ai); absent: sent as it is. */
  readonly credentials?: TokenExchange;
}
