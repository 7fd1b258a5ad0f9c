/**
 * The Redis URL shared by `tollgate run`, `tollgate dataplane` and `tollgate operator`: `--redis`, else
 * TOLLGATE_REDIS_URL. The env var lets a Kubernetes Secret supply a URL with a password, which a flag
 * would leave in the pod spec and in `ps`. Parsed once at start. In contract/ with the key layout
 * (shared-state.ts): both processes must name the same Redis, and the operator imports no data-plane CLI.
 */

export const REDIS_URL_ENV = 'TOLLGATE_REDIS_URL';

export type ParsedRedisUrl =
  | { readonly ok: true; readonly value: string | undefined }
  | { readonly ok: false; readonly message: string };

function isRedisUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.host !== '';
  } catch {
    return false;
  }
}

/**
 * The flag wins over the env; an empty env value counts as unset. The error names where the value came
 * from but never quotes it: it may hold a password.
 */
export function parseRedisUrl(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ParsedRedisUrl {
  const [text, source] = flag !== undefined ? [flag, '--redis'] : [env[REDIS_URL_ENV], REDIS_URL_ENV];
  if (text === undefined || (flag === undefined && text === '')) return { ok: true, value: undefined };
  if (!isRedisUrl(text)) return { ok: false, message: `${source} must be a redis:// or rediss:// URL` };
  return { ok: true, value: text };
}

/** A Redis URL fit for a log line: the password replaced. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
