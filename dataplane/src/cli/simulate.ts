/** `tollgate simulate`: a simulated OpenAI/Anthropic-compatible provider (no keys, scriptable faults). */
import { parseArgs } from 'node:util';
import {
  DEFAULT_OPTIONS,
  intervalFromTokensPerSecond,
  parseCount,
  parseMillis,
  parseRate,
  type SimulateOptions,
} from '../simulate/options.js';
import { createSimulator } from '../simulate/server.js';

export const usage = `tollgate simulate [flags]

A simulated OpenAI- and Anthropic-compatible provider, for trying Tollgate without keys and for load
and chaos tests. Serves any model name.
  POST /v1/chat/completions   (stream or not; stream_options.include_usage honoured)
  POST /v1/embeddings         (float or base64; deterministic vectors)
  GET  /v1/models
  POST /v1/messages           (Anthropic; full streaming event sequence)

Answers are deterministic ("Simulated answer to N words: lorem ipsum ..."); usage counts input tokens
as prompt words and output tokens as the chunks sent. max_tokens caps the answer (finish "length" /
stop "max_tokens").

Flags:
  --port <n>                 port to listen on (default 9100; 0 picks a free one)
  --host <addr>              address to bind (default 127.0.0.1)
  --latency <duration>       time to first byte of every answer, e.g. 20ms (default 0)
  --tokens-per-second <n>    stream pace (default: unpaced, the whole stream at once)
  --chunk-interval <dur>     pause between stream chunks, instead of --tokens-per-second
  --output-tokens <n>        tokens per answer (default ${DEFAULT_OPTIONS.outputTokens})
  --error-rate <0..1>        share answered 500/503 (OpenAI) or 500/529 (Anthropic) (default 0)
  --rate-limit-rate <0..1>   share answered 429 with retry-after (default 0)
  --retry-after <seconds>    retry-after on 429 (default ${DEFAULT_OPTIONS.retryAfterSeconds})
  --models <a,b,...>         models listed by GET /v1/models
  --embedding-dimensions <n> default embedding size (default ${DEFAULT_OPTIONS.embeddingDimensions})
  --api-key <key>            require this key (Bearer or x-api-key); also TOLLGATE_SIMULATE_API_KEY
  --seed <n>                 seed of the error draws (default 1)
  -h, --help                 this text

Per-request overrides (headers):
  x-simulate-latency: 250ms          x-simulate-chunk-interval: 50ms
  x-simulate-tokens-per-second: 20   x-simulate-output-tokens: 100
  x-simulate-status: 503             answer this error status, in the route's format
  x-simulate-retry-after: 2          retry-after seconds on a simulated 429
  x-simulate-disconnect-after: 3     break a stream after 3 chunks (Anthropic: an error event)`;

/** Turns flags into options; throws with a message that names the bad flag. */
export function optionsFromArgs(args: string[]): { port: number; host: string; options: SimulateOptions } | 'help' {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', default: '9100' },
      host: { type: 'string', default: '127.0.0.1' },
      latency: { type: 'string' },
      'tokens-per-second': { type: 'string' },
      'chunk-interval': { type: 'string' },
      'output-tokens': { type: 'string' },
      'error-rate': { type: 'string' },
      'rate-limit-rate': { type: 'string' },
      'retry-after': { type: 'string' },
      models: { type: 'string' },
      'embedding-dimensions': { type: 'string' },
      'api-key': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const port = parseCount(values.port, '--port');
  if (port > 65535) throw new Error(`--port: ${port} is not a valid port`);
  if (values['tokens-per-second'] !== undefined && values['chunk-interval'] !== undefined)
    throw new Error('--tokens-per-second and --chunk-interval are two ways to say the same thing: give one');
  const o: SimulateOptions = { ...DEFAULT_OPTIONS };
  if (values.latency !== undefined) o.latencyMs = parseMillis(values.latency, '--latency');
  if (values['chunk-interval'] !== undefined)
    o.chunkIntervalMs = parseMillis(values['chunk-interval'], '--chunk-interval');
  if (values['tokens-per-second'] !== undefined) {
    const tps = Number(values['tokens-per-second']);
    if (!Number.isFinite(tps) || tps <= 0) throw new Error('--tokens-per-second: must be a positive number');
    o.chunkIntervalMs = intervalFromTokensPerSecond(tps);
  }
  if (values['output-tokens'] !== undefined) o.outputTokens = parseCount(values['output-tokens'], '--output-tokens');
  if (values['error-rate'] !== undefined) o.errorRate = parseRate(values['error-rate'], '--error-rate');
  if (values['rate-limit-rate'] !== undefined)
    o.rateLimitRate = parseRate(values['rate-limit-rate'], '--rate-limit-rate');
  if (o.errorRate + o.rateLimitRate > 1) throw new Error('--error-rate plus --rate-limit-rate must not exceed 1');
  if (values['retry-after'] !== undefined) o.retryAfterSeconds = parseCount(values['retry-after'], '--retry-after');
  if (values.models !== undefined) {
    const models = values.models
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    if (models.length === 0) throw new Error('--models: give at least one model name');
    o.models = Object.freeze(models);
  }
  if (values['embedding-dimensions'] !== undefined) {
    const d = parseCount(values['embedding-dimensions'], '--embedding-dimensions');
    if (d < 1 || d > 8192) throw new Error('--embedding-dimensions: must be from 1 to 8192');
    o.embeddingDimensions = d;
  }
  const key = values['api-key'] ?? process.env.TOLLGATE_SIMULATE_API_KEY;
  if (key !== undefined && key !== '') o.apiKey = key;
  if (values.seed !== undefined) o.seed = parseCount(values.seed, '--seed');
  return { port, host: values.host, options: Object.freeze(o) };
}

export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof optionsFromArgs>;
  try {
    parsed = optionsFromArgs(args);
  } catch (err) {
    console.error(`tollgate simulate: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(usage);
    return 0;
  }
  const sim = createSimulator(parsed.options);
  let port: number;
  try {
    port = await sim.listen(parsed.port, parsed.host);
  } catch (err) {
    console.error(`tollgate simulate: cannot listen on ${parsed.host}:${parsed.port}: ${(err as Error).message}`);
    return 1;
  }
  const o = parsed.options;
  const hostForUrl = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
  console.log(
    `tollgate simulate: listening on http://${hostForUrl}:${port} (OpenAI base URL http://${hostForUrl}:${port}/v1, ` +
      `Anthropic base URL http://${hostForUrl}:${port}); latency ${o.latencyMs}ms, chunk interval ${o.chunkIntervalMs}ms, ` +
      `${o.outputTokens} output tokens, error rate ${o.errorRate}, rate-limit rate ${o.rateLimitRate}`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sim.close();
  return 0;
}
