import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, testServiceAccount } from '../../../../test/support/vertex-service-account.js';
import { GatewayError } from '../../errors.js';
import {
  CLOUD_PLATFORM_SCOPE,
  isServiceAccountJson,
  JWT_BEARER_GRANT,
  parseServiceAccount,
  parseTokenResponse,
  type ServiceAccount,
  signAssertion,
  tokenRequestBody,
} from './service-account.js';

const sa = testServiceAccount('https://oauth2.example.test/token');

function account(): ServiceAccount {
  const p = parseServiceAccount(sa.json);
  if (!p.ok) throw new Error(p.problem);
  return p.account;
}

describe('parseServiceAccount', () => {
  it('reads a key file', () => {
    const a = account();
    expect(a.clientEmail).toBe(sa.clientEmail);
    expect(a.tokenUri).toBe('https://oauth2.example.test/token');
    expect(a.privateKeyId).toBe('k1');
    expect(a.privateKey.asymmetricKeyType).toBe('rsa');
  });

  it('defaults token_uri to Google', () => {
    const o = JSON.parse(sa.json) as Record<string, unknown>;
    delete o.token_uri;
    const p = parseServiceAccount(JSON.stringify(o));
    expect(p.ok && p.account.tokenUri).toBe('https://oauth2.googleapis.com/token');
  });

  const base = JSON.parse(sa.json) as Record<string, unknown>;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  it.each([
    ['not JSON', '{nope', 'is not valid JSON'],
    ['an array', '[1]', 'is not a JSON object'],
    ['another type', JSON.stringify({ ...base, type: 'authorized_user' }), 'has type "authorized_user"'],
    ['no client_email', JSON.stringify({ ...base, client_email: undefined }), 'has no client_email'],
    ['no private_key', JSON.stringify({ ...base, private_key: '' }), 'has no private_key'],
    [
      'a garbled private_key',
      JSON.stringify({ ...base, private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }),
      'not a PEM private key',
    ],
    ['an EC key', JSON.stringify({ ...base, private_key: ec }), 'not an RSA key'],
    ['a bad token_uri', JSON.stringify({ ...base, token_uri: 'file:///etc/passwd' }), 'token_uri'],
  ])('rejects %s without quoting it', (_what, text, problem) => {
    const p = parseServiceAccount(text);
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.problem).toContain(problem);
    expect(p.problem).not.toContain('BEGIN');
    expect(p.problem).not.toContain('AAAA');
  });

  it('tells a key file from a plain access token', () => {
    expect(isServiceAccountJson(sa.json)).toBe(true);
    expect(isServiceAccountJson('ya29.a0AfH6SM')).toBe(false);
  });
});

describe('signAssertion', () => {
  it('is an RS256 JWT the public key verifies, with the documented claims', () => {
    const jwt = signAssertion(account(), 1_700_000_000);
    const d = decodeJwt(jwt, sa.publicKey);
    expect(d.valid).toBe(true);
    expect(d.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect(d.claims).toEqual({
      iss: sa.clientEmail,
      scope: CLOUD_PLATFORM_SCOPE,
      aud: 'https://oauth2.example.test/token',
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
  });

  it('does not verify with another key', () => {
    const other = testServiceAccount();
    expect(decodeJwt(signAssertion(account(), 1), other.publicKey).valid).toBe(false);
  });

  it('is posted as a jwt-bearer grant', () => {
    const form = new URLSearchParams(tokenRequestBody('a.b.c'));
    expect(form.get('grant_type')).toBe(JWT_BEARER_GRANT);
    expect(form.get('assertion')).toBe('a.b.c');
  });
});

describe('parseTokenResponse', () => {
  it('reads access_token and expires_in', () => {
    expect(
      parseTokenResponse(200, '{"access_token":"ya29.t","expires_in":3599,"token_type":"Bearer"}', 'ai/v'),
    ).toEqual({ accessToken: 'ya29.t', expiresInS: 3599 });
  });

  it('assumes an hour without expires_in', () => {
    expect(parseTokenResponse(200, '{"access_token":"ya29.t"}', 'ai/v').expiresInS).toBe(3600);
  });

  const fail = (status: number, text: string): GatewayError => {
    try {
      parseTokenResponse(status, text, 'ai/v');
    } catch (e) {
      if (e instanceof GatewayError) return e;
    }
    throw new Error('expected a GatewayError');
  };

  it('a 4xx is the provider refusing the gateway credential: 502 naming the provider', () => {
    const e = fail(400, '{"error":"invalid_grant","error_description":"Invalid JWT Signature."}');
    expect([e.code, e.status]).toEqual(['upstream_error', 502]);
    expect(e.message).toBe(
      `provider "ai/v" rejected the gateway's credential (token endpoint answered 400 invalid_grant): Invalid JWT Signature.`,
    );
  });

  it('a 5xx or a non-JSON body is an upstream error', () => {
    const e = fail(503, '<html>down</html>');
    expect([e.code, e.status]).toEqual(['upstream_error', 502]);
    expect(e.message).toContain('provider "ai/v" could not get an access token: token endpoint answered 503');
  });

  it('a 200 without a token is an upstream error', () => {
    const e = fail(200, '{"token_type":"Bearer"}');
    expect(e.message).toContain('has no access_token');
  });
});
