/**
 * Authenticates data-plane pods by their ServiceAccount token with the TokenReview API. Only tokens of
 * the configured ServiceAccounts pass. Results are cached briefly by the token's sha256 (never the token
 * itself): positive for `ttlMs`, negative for `negativeTtlMs`; an API failure is not cached.
 */
import { createHash } from 'node:crypto';

export interface ReviewResult {
  authenticated: boolean;
  username?: string;
}

/** Calls TokenReview; throws when the API server cannot be asked. */
export type TokenReviewer = (token: string) => Promise<ReviewResult>;

export type AuthOutcome = { ok: true; username: string } | { ok: false; reason: string };

export interface TokenAuthOptions {
  review: TokenReviewer;
  /** Allowed identities, `namespace/name` of ServiceAccounts. */
  serviceAccounts: readonly string[];
  ttlMs?: number;
  negativeTtlMs?: number;
  now?: () => number;
}

export function serviceAccountUsername(sa: string): string {
  const [ns, name] = sa.split('/');
  if (!ns || !name) throw new Error(`service account must be namespace/name, got "${sa}"`);
  return `system:serviceaccount:${ns}:${name}`;
}

export class TokenAuthenticator {
  private readonly cache = new Map<string, { outcome: AuthOutcome; expires: number }>();
  private readonly allowed: Set<string>;
  private readonly now: () => number;

  constructor(private readonly o: TokenAuthOptions) {
    this.allowed = new Set(o.serviceAccounts.map(serviceAccountUsername));
    this.now = o.now ?? Date.now;
  }

  /** Parses `Authorization: Bearer <token>` and reviews the token. */
  async authenticate(authorization: string | undefined): Promise<AuthOutcome> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m?.[1]) return { ok: false, reason: 'no bearer token' };
    const token = m[1];
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.outcome;
    let outcome: AuthOutcome;
    try {
      const r = await this.o.review(token);
      if (!r.authenticated || !r.username) outcome = { ok: false, reason: 'token not authenticated' };
      else if (!this.allowed.has(r.username))
        outcome = { ok: false, reason: `identity ${r.username} is not a data plane` };
      else outcome = { ok: true, username: r.username };
    } catch {
      return { ok: false, reason: 'token review unavailable' };
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, {
      outcome,
      expires: now + (outcome.ok ? (this.o.ttlMs ?? 60_000) : (this.o.negativeTtlMs ?? 5_000)),
    });
    return outcome;
  }
}
