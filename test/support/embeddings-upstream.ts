/**
 * A fake OpenAI embeddings upstream whose vectors are a deterministic function of the words (a bag of words
 * hashed into DIMS dimensions), so paraphrases are close and unrelated prompts are not: the semantic cache's
 * tests run on it. Every request is recorded; models listed in `broken` answer 503.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const EMBEDDING_DIMS = 256;

/** Bag of words hashed into EMBEDDING_DIMS dimensions (FNV-1a), not normalised (the gateway's side normalises). */
export function bagOfWords(text: string): number[] {
  const v = new Array<number>(EMBEDDING_DIMS).fill(0);
  for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    let h = 0x811c9dc5;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193) >>> 0;
    v[h % EMBEDDING_DIMS]! += 1;
  }
  return v;
}

export interface EmbeddingRequest {
  readonly headers: IncomingMessage['headers'];
  readonly body: { model: string; input: string };
}

export class EmbeddingsUpstream {
  readonly requests: EmbeddingRequest[] = [];
  private constructor(
    readonly server: Server,
    private readonly broken: ReadonlySet<string>,
  ) {}

  static async start(broken: readonly string[] = []): Promise<EmbeddingsUpstream> {
    let self: EmbeddingsUpstream | undefined;
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => {
        raw += d.toString();
      });
      req.on('end', () => {
        const body = JSON.parse(raw) as { model: string; input: string };
        self!.requests.push({ headers: req.headers, body });
        const failed = self!.broken.has(body.model);
        const out = JSON.stringify(
          failed
            ? { error: { message: 'overloaded', type: 'server_error' } }
            : {
                object: 'list',
                model: body.model,
                data: [{ object: 'embedding', index: 0, embedding: bagOfWords(body.input) }],
                usage: { prompt_tokens: 7, total_tokens: 7 },
              },
        );
        res.writeHead(failed ? 503 : 200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(out),
        });
        res.end(out);
      });
    });
    self = new EmbeddingsUpstream(server, new Set(broken));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return self;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
