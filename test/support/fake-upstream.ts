/**
 * A scriptable fake LLM provider for tests: a real HTTP server on 127.0.0.1:0 speaking the OpenAI
 * (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`), Anthropic (`/v1/messages`), Gemini
 * (`/v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`) and Bedrock Converse
 * (`/model/{modelId}/converse`, `/converse-stream` in the binary AWS event-stream framing) wire formats. Vertex AI's Claude
 * paths (`…/models/{model}:rawPredict`, `:streamRawPredict`) and an OAuth token endpoint (`POST /token`).
 *
 * Each test queues replies (`enqueue`); with an empty queue it answers with a well-formed default for the
 * path (streaming when the request asked for it). Replies can be JSON, raw SSE chunks with per-chunk
 * delays, raw bytes (garbage), a socket reset before or during the body, a truncated stream, a slow drip
 * or a hang. Every request is recorded (method, path, headers, parsed body) with whether the gateway
 * closed the connection before the reply finished (client-disconnect propagation).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { encodeBedrockEvent, encodeEventStreamMessage } from '../../dataplane/src/providers/bedrock/eventstream.js';

export interface SseChunk {
  /** Raw bytes written as they are (include the `data: ...\n\n` framing yourself), or an event to frame. */
  raw?: string;
  event?: string;
  data?: string | object;
  /** Wait before writing this chunk. */
  delayMs?: number;
}

export type FakeReply =
  | { kind: 'json'; status?: number; headers?: Record<string, string>; body: unknown; delayMs?: number }
  | { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string; delayMs?: number }
  | {
      kind: 'sse';
      status?: number;
      headers?: Record<string, string>;
      chunks: SseChunk[];
      /** How the stream ends after the chunks: cleanly (default), by a socket reset, or never. */
      end?: 'close' | 'reset' | 'hang';
    }
  /** Destroys the socket: before any response byte, or after the headers and part of a body. */
  | { kind: 'reset'; when?: 'before-headers' | 'mid-body' }
  /** Accepts the request and never answers (until the client goes away). */
  | { kind: 'hang' }
  /** Binary chunks (Bedrock's AWS event-stream), written as they are; ends cleanly or by a socket reset. */
  | {
      kind: 'bytes';
      status?: number;
      headers?: Record<string, string>;
      chunks: Uint8Array[];
      delayMs?: number;
      end?: 'close' | 'reset';
    }
  /** Default reply for the path, optionally with a text and model. */
  | { kind: 'default'; text?: string; model?: string; delayMs?: number };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  /** The body bytes as received (request signatures are computed over them). */
  raw: Buffer;
  /** True once the connection closed before the reply was complete (the gateway aborted). */
  aborted: boolean;
  /** Resolves when the exchange is over (finished or aborted). */
  done: Promise<void>;
}

/** test/fixtures/cassettes format (see its README): exactly one of body, bodyText, sse. */
export interface Cassette {
  description?: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  bodyText?: string;
  /** Bedrock streams: AWS event-stream messages, encoded to bytes when replayed (cassettes/bedrock/README.md). */
  eventstream?: { headers: Record<string, string>; payload: unknown }[];
  sse?: string;
}

export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: FakeReply[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private port = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Delay of the default reply given when the queue is empty (a backend's latency; tests may change it). */
  defaultDelayMs = 0;

  constructor(readonly name = 'fake') {}

  static async start(name = 'fake'): Promise<FakeUpstream> {
    const f = new FakeUpstream(name);
    await f.listen();
    return f;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  /** Base URL as the OpenAI SDK / GatewayConfig takes it for OpenAI-wire providers. */
  get openaiBaseUrl(): string {
    return `${this.url}/v1`;
  }
  /** Base URL for Anthropic-wire providers (no /v1). */
  get anthropicBaseUrl(): string {
    return this.url;
  }
  /** Base URL for Gemini providers (`/v1beta`, as the default endpoint has it). */
  get geminiBaseUrl(): string {
    return `${this.url}/v1beta`;
  }

  enqueue(...replies: FakeReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Queues a recorded provider response (see test/fixtures/cassettes). */
  enqueueCassette(file: string, options: { chunkSize?: number; delayMs?: number } = {}): this {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Cassette;
    if (c.eventstream !== undefined) {
      const bytes = Buffer.concat(
        c.eventstream.map((f) =>
          encodeEventStreamMessage(f.headers, typeof f.payload === 'string' ? f.payload : JSON.stringify(f.payload)),
        ),
      );
      const size = options.chunkSize ?? 37;
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      this.queue.push({ kind: 'bytes', status: c.status, headers: c.headers, chunks, delayMs: options.delayMs });
    } else if (c.sse !== undefined) {
      // Split the raw stream into arbitrary chunks: the gateway must not depend on event-aligned reads.
      const size = options.chunkSize ?? 37;
      const chunks: SseChunk[] = [];
      for (let i = 0; i < c.sse.length; i += size)
        chunks.push({ raw: c.sse.slice(i, i + size), delayMs: options.delayMs });
      this.queue.push({ kind: 'sse', status: c.status, headers: c.headers, chunks });
    } else if (c.bodyText !== undefined)
      this.queue.push({
        kind: 'raw',
        status: c.status,
        headers: { 'content-type': 'text/html', ...c.headers },
        body: c.bodyText,
      });
    else this.queue.push({ kind: 'json', status: c.status, headers: c.headers, body: c.body });
    return this;
  }

  reset(): void {
    this.queue.length = 0;
    this.requests.length = 0;
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return new Promise((resolve) => {
      this.server!.listen(0, '127.0.0.1', () => {
        const a = this.server!.address();
        this.port = typeof a === 'object' && a !== null ? a.port : 0;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = raw.toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {}
      let resolveDone!: () => void;
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        raw,
        aborted: false,
        done: new Promise((r) => {
          resolveDone = r;
        }),
      };
      this.requests.push(rec);
      res.on('close', () => {
        if (!res.writableFinished) rec.aborted = true;
        resolveDone();
      });
      const reply = this.queue.shift() ?? { kind: 'default', delayMs: this.defaultDelayMs };
      if (!this.holding) this.reply(req, res, rec, reply);
      else {
        this.held.push(() => this.reply(req, res, rec, reply));
        this.heldChanged();
      }
    });
  }

  // ─── holding answers (concurrency tests wait on "N requests in flight", not on time) ─────────────

  private holding = false;
  private readonly held: Array<() => void> = [];
  private readonly heldWaits: Array<{ n: number; resolve: () => void }> = [];

  /** From now on every request is held (received, unanswered) until `release`. */
  hold(): this {
    this.holding = true;
    return this;
  }

  /** Requests received and held now. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Resolves once `n` requests are held at the same time. */
  whenHeld(n: number): Promise<void> {
    if (this.held.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.heldWaits.push({ n, resolve }));
  }

  /** Answers the `n` oldest held requests (default: all); `stop` also ends holding for later requests. */
  release(n = this.held.length, stop = false): void {
    if (stop) this.holding = false;
    for (const send of this.held.splice(0, n)) send();
  }

  private heldChanged(): void {
    for (let i = this.heldWaits.length - 1; i >= 0; i--) {
      const w = this.heldWaits[i]!;
      if (this.held.length >= w.n) {
        this.heldWaits.splice(i, 1);
        w.resolve();
      }
    }
  }

  private reply(req: IncomingMessage, res: ServerResponse, rec: RecordedRequest, r: FakeReply): void {
    switch (r.kind) {
      case 'json':
      case 'raw': {
        const payload = r.kind === 'json' ? JSON.stringify(r.body) : r.body;
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
          res.end(payload);
        };
        if (r.delayMs) this.later(r.delayMs, send);
        else send();
        return;
      }
      case 'sse':
        this.sse(res, r);
        return;
      case 'bytes':
        this.bytes(res, r);
        return;
      case 'reset':
        if (r.when === 'mid-body') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
          res.write('{"id":"chatcmpl-1","choices":[');
          this.later(20, () => req.socket.destroy());
        } else req.socket.destroy();
        return;
      case 'hang':
        return;
      case 'default': {
        const reply = defaultReply(rec, r.text ?? `hello from ${this.name}`, r.model);
        if (r.delayMs) this.later(r.delayMs, () => this.reply(req, res, rec, reply));
        else this.reply(req, res, rec, reply);
        return;
      }
    }
  }

  private bytes(res: ServerResponse, r: Extract<FakeReply, { kind: 'bytes' }>): void {
    res.writeHead(r.status ?? 200, { 'content-type': 'application/vnd.amazon.eventstream', ...r.headers });
    res.flushHeaders();
    let i = 0;
    const step = () => {
      if (res.destroyed) return;
      if (i >= r.chunks.length) {
        if (r.end === 'reset') this.later(30, () => res.socket?.destroy());
        else res.end();
        return;
      }
      res.write(r.chunks[i++]!);
      if (r.delayMs) this.later(r.delayMs, step);
      else step();
    };
    step();
  }

  private sse(res: ServerResponse, r: Extract<FakeReply, { kind: 'sse' }>): void {
    res.writeHead(r.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...r.headers });
    res.flushHeaders();
    let i = 0;
    const step = () => {
      if (res.destroyed) return;
      if (i >= r.chunks.length) {
        // Let the bytes already written reach the peer before the reset.
        if (r.end === 'reset') this.later(30, () => res.socket?.destroy());
        else if (r.end !== 'hang') res.end();
        return;
      }
      const c = r.chunks[i++]!;
      const write = () => {
        if (res.destroyed) return;
        res.write(c.raw ?? frame(c));
        step();
      };
      if (c.delayMs) this.later(c.delayMs, write);
      else write();
    };
    step();
  }
}

function frame(c: SseChunk): string {
  const data = typeof c.data === 'string' ? c.data : JSON.stringify(c.data);
  return `${c.event === undefined ? '' : `event: ${c.event}\n`}data: ${data}\n\n`;
}

/** OpenAI chat stream chunks for `text` (role, one chunk per word, finish, usage, [DONE]). */
export function openAiStream(text: string, model = 'gpt-4o', opts: { usage?: boolean; delayMs?: number } = {}) {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1700000000, model };
  const chunks: SseChunk[] = [
    { data: { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] } },
  ];
  for (const w of text.split(/(?<= )/))
    chunks.push({
      data: { ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] },
      delayMs: opts.delayMs,
    });
  chunks.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } });
  if (opts.usage !== false)
    chunks.push({
      data: { ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } },
    });
  chunks.push({ data: '[DONE]' });
  return chunks;
}

/** Anthropic message stream events for `text`. */
export function anthropicStream(text: string, model = 'claude-sonnet-4-5', opts: { delayMs?: number } = {}) {
  const chunks: SseChunk[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: 'msg_fake',
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 5, output_tokens: 1 },
        },
      },
    },
    {
      event: 'content_block_start',
      data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    },
  ];
  for (const w of text.split(/(?<= )/))
    chunks.push({
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } },
      delayMs: opts.delayMs,
    });
  chunks.push(
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 7 },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return chunks;
}

export function openAiCompletion(text: string, model = 'gpt-4o') {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [
      { index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null },
    ],
    usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
  };
}

export function anthropicMessage(text: string, model = 'claude-sonnet-4-5') {
  return {
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 7 },
  };
}

/** A Gemini GenerateContentResponse for `text`. */
export function geminiResponse(text: string, model = 'gemini-2.5-flash') {
  return {
    candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 7, totalTokenCount: 12 },
    modelVersion: model,
    responseId: 'gemini-fake',
  };
}

/** Gemini streamGenerateContent?alt=sse chunks for `text` (one per word; the last has finishReason and usage). */
export function geminiStream(text: string, model = 'gemini-2.5-flash') {
  const words = text.split(/(?<= )/);
  return words.map((w, i): SseChunk => {
    const last = i === words.length - 1;
    return {
      data: {
        candidates: [
          { content: { parts: [{ text: w }], role: 'model' }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) },
        ],
        usageMetadata: last
          ? { promptTokenCount: 5, candidatesTokenCount: 7, totalTokenCount: 12 }
          : { promptTokenCount: 5, totalTokenCount: 5 },
        modelVersion: model,
        responseId: 'gemini-fake',
      },
    };
  });
}

/** A Bedrock Converse answer for `text`. */
export function bedrockResponse(text: string) {
  return {
    output: { message: { role: 'assistant', content: [{ text }] } },
    stopReason: 'end_turn',
    usage: { inputTokens: 5, outputTokens: 7, totalTokens: 12 },
    metrics: { latencyMs: 10 },
  };
}

/** A Bedrock converse-stream for `text` as event-stream messages (one text delta per word), one chunk each. */
export function bedrockStream(text: string): Uint8Array[] {
  const out = [encodeBedrockEvent('messageStart', { role: 'assistant' })];
  for (const w of text.split(/(?<= )/))
    out.push(encodeBedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: w } }));
  out.push(
    encodeBedrockEvent('contentBlockStop', { contentBlockIndex: 0 }),
    encodeBedrockEvent('messageStop', { stopReason: 'end_turn' }),
    encodeBedrockEvent('metadata', {
      usage: { inputTokens: 5, outputTokens: 7, totalTokens: 12 },
      metrics: { latencyMs: 10 },
    }),
  );
  return out;
}

function defaultReply(rec: RecordedRequest, text: string, model?: string): FakeReply {
  const body = (typeof rec.body === 'object' && rec.body !== null ? rec.body : {}) as Record<string, unknown>;
  const m = model ?? (typeof body.model === 'string' ? body.model : 'unknown');
  const stream = body.stream === true;
  const path = rec.path.split('?')[0]!;
  if (path.endsWith('/messages')) {
    return stream
      ? { kind: 'sse', chunks: anthropicStream(text, m) }
      : { kind: 'json', body: anthropicMessage(text, m) };
  }
  if (path.endsWith('/embeddings')) {
    const n = Array.isArray(body.input) ? body.input.length : 1;
    return {
      kind: 'json',
      body: {
        object: 'list',
        model: m,
        data: Array.from({ length: n }, (_, index) => ({ object: 'embedding', index, embedding: [0.1, 0.2, 0.3] })),
        usage: { prompt_tokens: 3, total_tokens: 3 },
      },
    };
  }
  if (path.endsWith('/models')) return { kind: 'json', body: { object: 'list', data: [] } };
  const gemini = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
  if (gemini) {
    const gm = model ?? decodeURIComponent(gemini[1]!);
    return gemini[2] === 'streamGenerateContent'
      ? { kind: 'sse', chunks: geminiStream(text, gm) }
      : { kind: 'json', body: geminiResponse(text, gm) };
  }
  // Vertex AI: Claude models at publishers/anthropic/models/{model}:rawPredict / :streamRawPredict (Anthropic
  // answers; the model is in the path), and an OAuth token endpoint for service-account JWT exchanges.
  const rawPredict = /\/models\/([^/:]+):(rawPredict|streamRawPredict)$/.exec(path);
  if (rawPredict) {
    const cm = model ?? decodeURIComponent(rawPredict[1]!);
    return rawPredict[2] === 'streamRawPredict'
      ? { kind: 'sse', chunks: anthropicStream(text, cm) }
      : { kind: 'json', body: anthropicMessage(text, cm) };
  }
  // Bedrock Converse: /model/{modelId}/converse and /converse-stream (event-stream binary framing).
  const bedrock = /\/model\/([^/]+)\/(converse|converse-stream)$/.exec(path);
  if (bedrock)
    return bedrock[2] === 'converse-stream'
      ? { kind: 'bytes', chunks: bedrockStream(text) }
      : { kind: 'json', body: bedrockResponse(text) };
  if (path === '/token')
    return {
      kind: 'json',
      body: { access_token: `ya29.${text.replace(/\W+/g, '-')}`, expires_in: 3599, token_type: 'Bearer' },
    };
  if (path.endsWith('/chat/completions')) {
    return stream ? { kind: 'sse', chunks: openAiStream(text, m) } : { kind: 'json', body: openAiCompletion(text, m) };
  }
  return {
    kind: 'json',
    status: 404,
    body: { error: { message: `fake upstream: no ${path}`, type: 'invalid_request_error' } },
  };
}
