/**
 * AWS Signature Version 4 (header signing), as a pure function of the request, the credentials and the time.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(SHA256(body))
 *   StringToSign     = "AWS4-HMAC-SHA256" \n amzDate \n date/region/service/aws4_request \n hex(SHA256(CanonicalRequest))
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
 *   Authorization    = AWS4-HMAC-SHA256 Credential=<key id>/<scope>, SignedHeaders=<list>, Signature=hex(HMAC(key, sts))
 *
 * The canonical URI of every service but S3 is the request path with each segment URI-encoded once more (a path
 * that went out as `/model/a%3A0/converse` is signed as `/model/a%253A0/converse`).
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  /** `host[:port]` as the request carries it. */
  host: string;
  /** The path as sent (already percent-encoded), without the query. */
  path: string;
  /** The query string as sent, without `?` (empty: none). */
  query?: string;
  /** Other headers to sign (any case); `host`, `x-amz-date` and, when set, `x-amz-security-token` are added. */
  headers?: Record<string, string>;
  /** The exact body bytes. */
  body: string | Uint8Array;
  region: string;
  service: string;
  credentials: AwsCredentials;
  /** Epoch milliseconds. */
  now: number;
  /** Also send and sign `x-amz-content-sha256` (S3 requires it; harmless elsewhere). */
  contentSha256Header?: boolean;
}

export interface Signed {
  /** Headers to send: x-amz-date, x-amz-security-token, x-amz-content-sha256 (as asked) and authorization. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper-case hex). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20150830T123600Z` */
export function amzDate(nowMs: number): string {
  return new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query.split('&').map((kv) => {
    const i = kv.indexOf('=');
    const k = decodeURIComponent(i === -1 ? kv : kv.slice(0, i));
    const v = i === -1 ? '' : decodeURIComponent(kv.slice(i + 1));
    return [uriEncode(k), uriEncode(v)] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/';
  return path
    .split('/')
    .map((seg) => uriEncode(seg))
    .join('/');
}

/** The signing key for one day, region and service (callers may cache it per day). */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

export function signV4(input: SignInput, key?: Buffer): Signed {
  const date = amzDate(input.now);
  const day = date.slice(0, 8);
  const payloadHash = sha256Hex(input.body);
  const all = new Map<string, string>();
  for (const [k, v] of Object.entries(input.headers ?? {})) all.set(k.toLowerCase(), v.trim().replace(/\s+/g, ' '));
  all.set('host', input.host);
  all.set('x-amz-date', date);
  const added: Record<string, string> = { 'x-amz-date': date };
  if (input.credentials.sessionToken !== undefined) {
    all.set('x-amz-security-token', input.credentials.sessionToken);
    added['x-amz-security-token'] = input.credentials.sessionToken;
  }
  if (input.contentSha256Header) {
    all.set('x-amz-content-sha256', payloadHash);
    added['x-amz-content-sha256'] = payloadHash;
  }
  const names = [...all.keys()].sort();
  const signedHeaders = names.join(';');
  let canonicalHeaders = '';
  for (const n of names) canonicalHeaders += `${n}:${all.get(n)}\n`;
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalPath(input.path),
    canonicalQuery(input.query ?? ''),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n');
  const k = key ?? signingKey(input.credentials.secretAccessKey, day, input.region, input.service);
  const signature = createHmac('sha256', k).update(stringToSign, 'utf8').digest('hex');
  added.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers: added, canonicalRequest, stringToSign, signature };
}
