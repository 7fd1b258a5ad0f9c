/**
 * The simulated provider's HTTP server (plain node:http: it is the upstream of the benchmarks, so it
 * stays as cheap as possible). OpenAI routes: POST /v1/chat/completions, POST /v1/embeddings,
 * GET /v1/models. Anthropic route: POST /v1/messages. Any model name is served.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  answerTokens,
  anthropicError,
  anthropicEvents,
  anthropicMessage,
  countWords,
  nextId,
  OpenAIChunkWriter,
  openaiCompletion,
  openaiEmbeddings,
  openaiError,
  openaiModelList,
  promptWords,
} from './formats.js';
import {
  DEFAULT_OPTIONS,
  parseOverrides,
  type RequestOverrides,
  type SimulateOptions,
  seededRandom,
} from './options.js';

type Format = 'openai' | 'anthropic';

export interface SimulatorStats {
  /** Requests received on the API routes. */
  requests: number;
  /** Streams currently open. */
  openStreams: number;
}

export interface Simulator {
  readonly server: Server;
  readonly options: SimulateOptions;
  readonly stats: SimulatorStats;
  /** Listens; resolves with the bound port (0: a free one). */
  listen(port: number, host?: string): Promise<number>;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

interface Plan {
  latencyMs: number;
  chunkIntervalMs: number;
  outputTokens: number;
  disconnectAfter: number | undefined;
}

export function createSimulator(opts: Partial<SimulateOptions> = {}): Simulator {
  const options: SimulateOptions = Object.freeze({ ...DEFAULT_OPTIONS, ...opts });
  const random = seededRandom(options.seed);
  const stats: SimulatorStats = { requests: 0, openStreams: 0 };
  const modelsBody = openaiModelList(options.models, Math.floor(Date.now() / 1000));

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const format: Format = path === '/v1/messages' ? 'anthropic' : 'openai';
    if (req.method === 'GET') {
      if (path === '/v1/models') return send(res, 200, JSON_HEADERS, modelsBody);
      if (path === '/healthz' || path === '/') return send(res, 200, JSON_HEADERS, '{"status":"ok"}');
    }
    const post = req.method === 'POST';
    if (!(post && (path === '/v1/chat/completions' || path === '/v1/embeddings' || path === '/v1/messages'))) {
      req.resume();
      const known = path === '/v1/chat/completions' || path === '/v1/embeddings' || path === '/v1/messages';
      return sendError(
        res,
        format,
        known ? 405 : 404,
        known ? `${req.method} is not allowed on ${path}` : `no such route: ${req.method} ${path}`,
      );
    }
    stats.requests++;
    if (options.apiKey !== undefined && !hasKey(req, options.apiKey)) {
      req.resume();
      return sendError(res, format, 401, 'invalid or missing API key');
    }
    let overrides: RequestOverrides | undefined;
    try {
      overrides = parseOverrides(req.headers);
    } catch (err) {
      req.resume();
      return sendError(res, format, 400, (err as Error).message);
    }
    readBody(req, options.maxBodyBytes, (tooLarge, body) => {
      if (tooLarge) return sendError(res, format, 413, `request body exceeds ${options.maxBodyBytes} bytes`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return sendError(res, format, 400, 'request body is not valid JSON');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        return sendError(res, format, 400, 'request body must be a JSON object');
      const b = parsed as Record<string, unknown>;
      if (typeof b.model !== 'string' || b.model === '')
        return sendError(res, format, 400, 'you must provide a model parameter', 'model');

      const latencyMs = overrides?.latencyMs ?? options.latencyMs;
      const status = overrides?.status ?? drawError(format);
      if (status !== undefined) {
        const retryAfter = overrides?.retryAfterSeconds ?? options.retryAfterSeconds;
        return later(latencyMs, () => {
          if (res.destroyed) return;
          const headers: Record<string, string> =
            status === 429 ? { ...JSON_HEADERS, 'retry-after': String(retryAfter) } : JSON_HEADERS;
          sendError(res, format, status, simulatedMessage(status), null, headers);
        });
      }
      const plan: Plan = {
        latencyMs,
        chunkIntervalMs: overrides?.chunkIntervalMs ?? options.chunkIntervalMs,
        outputTokens: overrides?.outputTokens ?? options.outputTokens,
        disconnectAfter: overrides?.disconnectAfter,
      };
      if (path === '/v1/chat/completions') return chat(res, b, plan);
      if (path === '/v1/messages') return messages(res, b, plan);
      return embeddings(res, b, plan);
    });
  });

  function drawError(format: Format): number | undefined {
    if (options.errorRate === 0 && options.rateLimitRate === 0) return undefined;
    const r = random();
    if (r < options.rateLimitRate) return 429;
    if (r < options.rateLimitRate + options.errorRate) {
      // Alternate the server-error kinds each provider really answers.
      const second = random() < 0.5;
      return format === 'anthropic' ? (second ? 529 : 500) : second ? 503 : 500;
    }
    return undefined;
  }

  function chat(res: ServerResponse, b: Record<string, unknown>, plan: Plan) {
    if (!Array.isArray(b.messages) || b.messages.length === 0)
      return sendError(res, 'openai', 400, "'messages' must be a non-empty array", 'messages');
    const cap = maxTokens(b.max_completion_tokens ?? b.max_tokens);
    if (cap === null) return sendError(res, 'openai', 400, "'max_tokens' must be a positive integer", 'max_tokens');
    const count = cap === undefined ? plan.outputTokens : Math.min(cap, plan.outputTokens);
    const finish = cap !== undefined && cap < plan.outputTokens ? 'length' : 'stop';
    const inputTokens = promptWords(b.messages);
    const tokens = answerTokens(inputTokens, count);
    const model = b.model as string;
    const id = nextId('chatcmpl-');
    const created = Math.floor(Date.now() / 1000);
    if (b.stream !== true) {
      const body = openaiCompletion(id, created, model, tokens.join(''), finish, {
        prompt: inputTokens,
        completion: tokens.length,
      });
      return later(plan.latencyMs, () => send(res, 200, JSON_HEADERS, body));
    }
    const so = b.stream_options;
    const includeUsage =
      so !== null && typeof so === 'object' && (so as { include_usage?: unknown }).include_usage === true;
    const w = new OpenAIChunkWriter(id, created, model, includeUsage);
    const head = w.role();
    const tail = (sent: number) =>
      w.finish(finish) +
      (includeUsage ? w.usage({ prompt: inputTokens, completion: sent }) : '') +
      OpenAIChunkWriter.DONE;
    stream(res, plan, head, tokens, (t) => w.content(t), tail, undefined);
  }

  function messages(res: ServerResponse, b: Record<string, unknown>, plan: Plan) {
    if (!Array.isArray(b.messages) || b.messages.length === 0)
      return sendError(res, 'anthropic', 400, 'messages: must be a non-empty array');
    const cap = maxTokens(b.max_tokens);
    if (cap === undefined) return sendError(res, 'anthropic', 400, 'max_tokens: Field required');
    if (cap === null) return sendError(res, 'anthropic', 400, 'max_tokens: must be a positive integer');
    const count = Math.min(cap, plan.outputTokens);
    const stop = cap < plan.outputTokens ? 'max_tokens' : 'end_turn';
    const inputTokens = promptWords(b.messages, b.system);
    const tokens = answerTokens(inputTokens, count);
    const model = b.model as string;
    const id = nextId('msg_sim');
    if (b.stream !== true) {
      const body = anthropicMessage(id, model, tokens.join(''), stop, { input: inputTokens, output: tokens.length });
      return later(plan.latencyMs, () => send(res, 200, JSON_HEADERS, body));
    }
    stream(
      res,
      plan,
      anthropicEvents.start(id, model, inputTokens),
      tokens,
      anthropicEvents.delta,
      (sent) => anthropicEvents.end(stop, sent),
      anthropicEvents.error(529, 'Overloaded (simulated stream failure)'),
    );
  }

  function embeddings(res: ServerResponse, b: Record<string, unknown>, plan: Plan) {
    const input = b.input;
    let inputs: string[];
    if (typeof input === 'string') inputs = [input];
    else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string'))
      inputs = input as string[];
    else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'number'))
      inputs = [input.join(' ')];
    else return sendError(res, 'openai', 400, "'input' must be a string or a non-empty array of strings", 'input');
    const dims = b.dimensions === undefined ? options.embeddingDimensions : b.dimensions;
    if (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1 || dims > 8192)
      return sendError(res, 'openai', 400, "'dimensions' must be an integer from 1 to 8192", 'dimensions');
    const enc = b.encoding_format ?? 'float';
    if (enc !== 'float' && enc !== 'base64')
      return sendError(res, 'openai', 400, "'encoding_format' must be 'float' or 'base64'", 'encoding_format');
    let tokens = 0;
    for (const s of inputs) tokens += countWords(s);
    const body = openaiEmbeddings(b.model as string, inputs, dims, enc, tokens);
    later(plan.latencyMs, () => send(res, 200, JSON_HEADERS, body));
  }

  /**
   * Writes a stream: after the latency, the head and the first token together (so time to first byte is
   * time to first token), then one token per chunk interval, then the tail. With no interval the whole
   * stream goes out in one write.
   */
  function stream(
    res: ServerResponse,
    plan: Plan,
    head: string,
    tokens: readonly string[],
    chunk: (t: string) => string,
    tail: (sent: number) => string,
    errorEvent: string | undefined,
  ) {
    const cut = plan.disconnectAfter;
    const fail = () => {
      // Anthropic reports mid-stream failures as an error event; OpenAI streams just break off.
      if (errorEvent !== undefined) res.end(errorEvent);
      else res.destroy();
    };
    if (plan.chunkIntervalMs <= 0 && cut === undefined) {
      let s = head;
      for (const t of tokens) s += chunk(t);
      s += tail(tokens.length);
      return later(plan.latencyMs, () => send(res, 200, SSE_HEADERS, s));
    }
    later(plan.latencyMs, () => {
      if (res.destroyed) return;
      stats.openStreams++;
      let timer: NodeJS.Timeout | undefined;
      res.once('close', () => {
        stats.openStreams--;
        if (timer !== undefined) clearTimeout(timer);
      });
      res.writeHead(200, SSE_HEADERS);
      let i = 0;
      const step = () => {
        timer = undefined;
        if (res.destroyed) return;
        if (cut !== undefined && i >= cut) return fail();
        if (i >= tokens.length) return void res.end(tail(i));
        const first = i === 0;
        res.write(first ? head + chunk(tokens[i++]!) : chunk(tokens[i++]!));
        if (plan.chunkIntervalMs <= 0) setImmediate(step);
        else timer = setTimeout(step, plan.chunkIntervalMs);
      };
      if (cut === 0) {
        res.write(head);
        return fail();
      }
      step();
    });
  }

  return {
    server,
    options,
    stats,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** undefined: absent; null: present but not a positive integer. */
function maxTokens(v: unknown): number | undefined | null {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

function hasKey(req: IncomingMessage, key: string): boolean {
  const auth = req.headers.authorization;
  if (auth !== undefined && auth === `Bearer ${key}`) return true;
  return req.headers['x-api-key'] === key;
}

function simulatedMessage(status: number): string {
  if (status === 429) return 'Rate limit reached (simulated). Please retry after the retry-after interval.';
  if (status === 529) return 'Overloaded (simulated)';
  if (status >= 500) return `The server had an error while processing your request (simulated ${status}).`;
  return `Simulated error ${status}`;
}

function later(ms: number, fn: () => void): void {
  if (ms <= 0) fn();
  else setTimeout(fn, ms);
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendError(
  res: ServerResponse,
  format: Format,
  status: number,
  message: string,
  param: string | null = null,
  headers: Record<string, string> = JSON_HEADERS,
): void {
  send(
    res,
    status,
    headers,
    format === 'anthropic' ? anthropicError(status, message) : openaiError(status, message, param),
  );
}

function readBody(req: IncomingMessage, max: number, done: (tooLarge: boolean, body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (c: Buffer) => {
    if (over) return;
    size += c.length;
    if (size > max) {
      over = true;
      chunks.length = 0;
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (over) return done(true, '');
    done(false, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
  });
  req.on('error', () => {});
}
