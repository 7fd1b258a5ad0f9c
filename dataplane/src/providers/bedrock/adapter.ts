/**
 * Amazon Bedrock Converse API: `POST {baseUrl}/model/{modelId}/converse` and `/converse-stream` (the model id
 * URL-encoded: foundation model ids, inference profile ids and ARNs all work). baseUrl defaults to
 * `https://bedrock-runtime.{region}.amazonaws.com`. Streams answer in the AWS event-stream binary framing, hence
 * `streamDecoder`.
 *
 * The credential (Secret value) is either a Bedrock API key, sent as `Authorization: Bearer <key>`, or IAM keys as
 * JSON `{"accessKeyId", "secretAccessKey", "sessionToken"?}`, with which each request is signed (SigV4, service
 * `bedrock`, the provider's region, over the exact body bytes, at `input.now`). Pure, given `now`.
 */
import { GatewayError } from '../../errors.js';
import { unsupported } from '../common/json.js';
import type { BuildRequestInput, ProviderAdapter, UpstreamRequest } from '../types.js';
import { anthropicToBedrockRequest } from './anthropic-to-bedrock.js';
import { type BedrockCredential, parseBedrockCredential } from './credential.js';
import { GuardedEventStreamDecoder } from './eventstream.js';
import { openAiToBedrockRequest } from './openai-to-bedrock.js';
import { amzDate, signingKey, signV4 } from './sigv4.js';

export { type BedrockCredential, isAwsKeysJson, parseBedrockCredential } from './credential.js';

/** Parsed credentials and the day's signing key, per credential string (parsed once, not per request). */
interface Cached {
  credential: BedrockCredential;
  day?: string;
  region?: string;
  key?: Buffer;
}
const CACHE = new Map<string, Cached>();
const CACHE_MAX = 256;

function credentialFor(value: string): Cached {
  let c = CACHE.get(value);
  if (c !== undefined) return c;
  const parsed = parseBedrockCredential(value);
  if (!parsed.ok)
    throw new GatewayError(
      'upstream_error',
      `the bedrock provider's credential Secret holds JSON that is not usable AWS keys: it ${parsed.problem}`,
    );
  if (CACHE.size >= CACHE_MAX) CACHE.clear();
  c = { credential: parsed.credential };
  CACHE.set(value, c);
  return c;
}

export function bedrockPath(model: string, stream: boolean): string {
  return `/model/${encodeURIComponent(model)}/${stream ? 'converse-stream' : 'converse'}`;
}

export const bedrockAdapter: ProviderAdapter = {
  wire: 'bedrock',
  buildRequest(input: BuildRequestInput): UpstreamRequest {
    const { provider, operation, clientFormat, body, upstreamModel, stream } = input;
    if (operation !== 'chat')
      throw unsupported('model', 'embeddings from a bedrock provider are not implemented yet; route them elsewhere');
    const out = clientFormat === 'openai' ? openAiToBedrockRequest(body) : anthropicToBedrockRequest(body);
    const payload = JSON.stringify(out);
    const url = new URL(provider.baseUrl);
    const path = `${url.pathname.replace(/\/+$/, '')}${bedrockPath(upstreamModel, stream)}`;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'application/vnd.amazon.eventstream' : 'application/json',
    };
    const secret = input.credential ?? provider.credential;
    if (secret !== undefined) {
      const c = credentialFor(secret);
      if (c.credential.kind === 'apiKey') headers.authorization = `Bearer ${c.credential.key}`;
      else {
        const region = provider.type === 'bedrock' ? provider.region : undefined;
        if (region === undefined)
          throw new GatewayError('internal', `bedrock provider ${provider.id} has no region to sign for`);
        const nowMs = (input.now ?? Math.floor(Date.now() / 1000)) * 1000;
        const day = amzDate(nowMs).slice(0, 8);
        if (c.day !== day || c.region !== region || c.key === undefined) {
          c.key = signingKey(c.credential.credentials.secretAccessKey, day, region, 'bedrock');
          c.day = day;
          c.region = region;
        }
        const signed = signV4(
          {
            method: 'POST',
            host: url.host,
            path,
            headers: { 'content-type': headers['content-type']! },
            body: payload,
            region,
            service: 'bedrock',
            credentials: c.credential.credentials,
            now: nowMs,
            contentSha256Header: true,
          },
          c.key,
        );
        Object.assign(headers, signed.headers);
      }
    }
    return { url: `${url.origin}${path}`, headers, body: payload };
  },
  streamDecoder: () => new GuardedEventStreamDecoder(),
};
