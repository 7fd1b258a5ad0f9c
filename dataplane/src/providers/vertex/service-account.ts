/**
 * Google service-account keys (the JSON file `gcloud iam service-accounts keys create` writes): parsing, the
 * signed JWT assertion (RFC 7523, RS256) and the token endpoint's answer. Pure: the clock is a parameter and
 * nothing here does I/O; the exchange itself is proxy/credentials.ts. No message here ever contains key
 * material, the assertion or a token.
 */
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { GatewayError } from '../../errors.js';
import { excerpt, isRecord, str } from '../common/json.js';
import { credentialRejected } from '../common/upstream-error.js';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Lifetime asked for in the assertion (Google's maximum). */
export const ASSERTION_LIFETIME_S = 3600;

export interface ServiceAccount {
  clientEmail: string;
  privateKey: KeyObject;
  /** Put in the JWT header as `kid` when the key file has one. */
  privateKeyId: string | undefined;
  tokenUri: string;
}

export type ParsedServiceAccount = { ok: true; account: ServiceAccount } | { ok: false; problem: string };

/**
 * A vertex-ai credential is a service-account key when it is a JSON object; anything else is used as a
 * bearer token as it is (an access token from a workload-identity sidecar).
 */
export function isServiceAccountJson(credential: string): boolean {
  return credential.charCodeAt(0) === 0x7b; // '{'
}

/** Checks a service-account key file; `problem` says what is wrong without quoting any of it. */
export function parseServiceAccount(text: string): ParsedServiceAccount {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'is not valid JSON' };
  }
  if (!isRecord(v)) return { ok: false, problem: 'is not a JSON object' };
  if (v.type !== 'service_account')
    return {
      ok: false,
      problem: `has type ${JSON.stringify(typeof v.type === 'string' ? v.type.slice(0, 40) : (v.type ?? null))}, expected "service_account" (other Google credential types are not supported; put an access token in the Secret instead)`,
    };
  const clientEmail = str(v.client_email);
  if (clientEmail === undefined || clientEmail === '') return { ok: false, problem: 'has no client_email' };
  const pem = str(v.private_key);
  if (pem === undefined || pem === '') return { ok: false, problem: 'has no private_key' };
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    return { ok: false, problem: 'has a private_key that is not a PEM private key' };
  }
  if (privateKey.asymmetricKeyType !== 'rsa') return { ok: false, problem: 'has a private_key that is not an RSA key' };
  const tokenUri = v.token_uri === undefined ? DEFAULT_TOKEN_URI : str(v.token_uri);
  let url: URL | undefined;
  try {
    url = tokenUri === undefined ? undefined : new URL(tokenUri);
  } catch {}
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    return { ok: false, problem: 'has a token_uri that is not an http(s) URL' };
  return {
    ok: true,
    account: { clientEmail, privateKey, privateKeyId: str(v.private_key_id), tokenUri: tokenUri! },
  };
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

/** The signed assertion: RS256 over `{iss, scope, aud: token_uri, iat, exp}`. `nowS` is epoch seconds. */
export function signAssertion(account: ServiceAccount, nowS: number, scope = CLOUD_PLATFORM_SCOPE): string {
  const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
  if (account.privateKeyId !== undefined) header.kid = account.privateKeyId;
  const claims = {
    iss: account.clientEmail,
    scope,
    aud: account.tokenUri,
    iat: nowS,
    exp: nowS + ASSERTION_LIFETIME_S,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${sign('sha256', Buffer.from(input), account.privateKey).toString('base64url')}`;
}

/** The form body POSTed to token_uri. */
export function tokenRequestBody(assertion: string): string {
  return `grant_type=${encodeURIComponent(JWT_BEARER_GRANT)}&assertion=${assertion}`;
}

export interface AccessToken {
  accessToken: string;
  /** Seconds the token is valid for, as the endpoint said (3599 from Google). */
  expiresInS: number;
}

/**
 * The token endpoint's answer → the access token, or the GatewayError the client sees (502 `upstream_error`
 * naming the provider: a 4xx is the provider refusing the gateway's credential, like a 401 from a model API).
 */
export function parseTokenResponse(status: number, text: string, provider: string): AccessToken {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {}
  const body = isRecord(v) ? v : undefined;
  if (status < 200 || status >= 300) {
    const code = body === undefined ? undefined : str(body.error);
    const description =
      (body === undefined ? undefined : str(body.error_description)) ??
      (body === undefined ? `non-JSON body ${excerpt(text)}` : (code ?? `body ${excerpt(text)}`));
    const what = `token endpoint answered ${status}${code === undefined ? '' : ` ${code}`}`;
    if (status >= 400 && status < 500) throw credentialRejected(provider, what, description);
    throw new GatewayError(
      'upstream_error',
      `provider "${provider}" could not get an access token: ${what}: ${description}`,
    );
  }
  const token = body === undefined ? undefined : str(body.access_token);
  if (token === undefined || token === '')
    throw new GatewayError(
      'upstream_error',
      `provider "${provider}" could not get an access token: the token endpoint's answer has no access_token`,
    );
  const expires = body!.expires_in;
  const expiresInS = typeof expires === 'number' && Number.isFinite(expires) && expires > 0 ? expires : 3600;
  return { accessToken: token, expiresInS };
}
