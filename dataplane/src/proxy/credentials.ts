/**
 * Where the credential an adapter sends comes from. A provider type whose descriptor has `credentials` (a
 * TokenExchange: vertex-ai's service-account keys) may hold a key that is exchanged for an access token; every
 * other Secret value (static keys, a plain access token in a vertex-ai Secret) is returned as it is,
 * synchronously: those providers pay nothing. A token is cached per provider until shortly before it expires,
 * refreshed in the background while the old one is still good, and fetched single-flight (concurrent requests
 * share one exchange). Once a token is cached, resolution is synchronous again.
 *
 * Failures are GatewayErrors (502 `upstream_error` naming the provider) that the proxy fails over like a
 * credential rejection. No key material, assertion or token is ever put in an error or a log.
 */
import { request } from 'undici';
import type { ProviderConfig } from '../../../contract/gateway-config.js';
import { GatewayError } from '../errors.js';
import { DESCRIPTORS } from '../providers/descriptors.js';
import type { TokenExchange } from '../providers/types.js';

/** Provider type → its token exchange, for the types that have one (built once, looked up per request). */
const EXCHANGES: ReadonlyMap<string, TokenExchange> = new Map(
  Object.entries(DESCRIPTORS).flatMap(([type, d]) => (d.credentials === undefined ? [] : [[type, d.credentials]])),
);

/** POSTs a form body; resolves with the answer, rejects on transport failure or timeout. */
export type TokenFetch = (url: string, body: string, timeoutMs: number) => Promise<{ status: number; text: string }>;

export interface CredentialResolverOptions {
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
  fetch?: TokenFetch;
  /** One token exchange, to the last byte; default 15 s. */
  timeoutMs?: number;
}

/** Refresh this long before expiry (at most half the lifetime); a token is not used in its last 30 s. */
const REFRESH_BEFORE_MS = 5 * 60_000;
const STOP_USING_BEFORE_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 15_000;

interface TokenState {
  /** The Secret value this state belongs to (a reload with a new key starts over). */
  readonly credential: string;
  readonly exchange: TokenExchange;
  account: unknown;
  token: string | undefined;
  /** Epoch ms: refresh in the background from here on. */
  refreshAt: number;
  /** Epoch ms: no longer hand the token out from here on. */
  usableUntil: number;
  pending: Promise<string> | undefined;
}

const defaultFetch: TokenFetch = async (url, body, timeoutMs) => {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.statusCode, text: await res.body.text() };
};

function ignore(): void {}

export class CredentialResolver {
  private readonly states = new Map<string, TokenState>();
  private readonly now: () => number;
  private readonly fetch: TokenFetch;
  private readonly timeoutMs: number;

  constructor(options: CredentialResolverOptions = {}) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? defaultFetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The credential to send: a string (or undefined: none) at once, or a promise while a token is fetched. */
  resolve(provider: ProviderConfig): string | undefined | Promise<string> {
    const credential = provider.credential;
    if (credential === undefined) return credential;
    const exchange = EXCHANGES.get(provider.type);
    if (exchange === undefined || !exchange.applies(credential)) return credential;
    let s = this.states.get(provider.id);
    if (s === undefined || s.credential !== credential) {
      s = {
        credential,
        exchange,
        account: undefined,
        token: undefined,
        refreshAt: 0,
        usableUntil: 0,
        pending: undefined,
      };
      this.states.set(provider.id, s);
    }
    if (s.token !== undefined) {
      const now = this.now();
      if (now < s.refreshAt) return s.token;
      if (now < s.usableUntil) {
        // Still good: hand it out and refresh behind the scenes (a failure is retried by the next request).
        if (s.pending === undefined) this.exchange(s, provider.id).catch(ignore);
        return s.token;
      }
    }
    return s.pending ?? this.exchange(s, provider.id);
  }

  private exchange(s: TokenState, providerId: string): Promise<string> {
    const p = this.fetchToken(s, providerId).then(
      (t) => {
        if (s.pending === p) s.pending = undefined;
        return t;
      },
      (err: unknown) => {
        if (s.pending === p) s.pending = undefined;
        throw err;
      },
    );
    s.pending = p;
    return p;
  }

  private async fetchToken(s: TokenState, providerId: string): Promise<string> {
    const exchange = s.exchange;
    if (s.account === undefined) {
      const parsed = exchange.parse(s.credential);
      if (!parsed.ok)
        throw new GatewayError('upstream_error', `provider "${providerId}": its ${exchange.keyName} ${parsed.problem}`);
      s.account = parsed.account;
    }
    const startedAt = this.now();
    const req = exchange.request(s.account, Math.floor(startedAt / 1000));
    let answer: { status: number; text: string };
    try {
      answer = await this.fetch(req.url, req.body, this.timeoutMs);
    } catch (cause) {
      const code = (cause as { code?: unknown; name?: unknown } | null)?.code ?? (cause as { name?: unknown })?.name;
      throw new GatewayError(
        'upstream_error',
        `provider "${providerId}" could not get an access token: token endpoint ${new URL(req.url).origin} failed (${typeof code === 'string' ? code : 'error'})`,
        { cause },
      );
    }
    const t = exchange.answer(answer.status, answer.text, providerId);
    // Lifetime counted from before the request was sent, so the cache never outlives the token.
    const lifetimeMs = t.expiresInS * 1000;
    const expiresAt = startedAt + lifetimeMs;
    s.token = t.accessToken;
    s.refreshAt = expiresAt - Math.min(REFRESH_BEFORE_MS, lifetimeMs / 2);
    s.usableUntil = expiresAt - Math.min(STOP_USING_BEFORE_MS, lifetimeMs / 4);
    return t.accessToken;
  }
}

/** The process-wide resolver the proxy uses. */
export const credentials = new CredentialResolver();

/** The credential to send for a provider (see CredentialResolver.resolve). */
export function resolveCredential(provider: ProviderConfig): string | undefined | Promise<string> {
  return credentials.resolve(provider);
}
