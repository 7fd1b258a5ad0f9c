/** Test helpers: a throwaway service-account key generated per run (never a real key) and a JWT reader. Not used at runtime. */
import { createPublicKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';

export interface TestServiceAccount {
  /** The key file as the Secret holds it. */
  json: string;
  publicKey: KeyObject;
  clientEmail: string;
  tokenUri: string;
}

export function testServiceAccount(tokenUri = 'https://oauth2.googleapis.com/token'): TestServiceAccount {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = 'tollgate@test-project.iam.gserviceaccount.com';
  const json = JSON.stringify({
    type: 'service_account',
    project_id: 'test-project',
    private_key_id: 'k1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    client_id: '1234567890',
    token_uri: tokenUri,
  });
  return { json, publicKey: createPublicKey(privateKey), clientEmail, tokenUri };
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** RS256 signature checked with the public key. */
  valid: boolean;
}

export function decodeJwt(jwt: string, publicKey: KeyObject): DecodedJwt {
  const [h, c, s] = jwt.split('.');
  const part = (x: string | undefined) =>
    JSON.parse(Buffer.from(x ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  const valid = verify('sha256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s ?? '', 'base64url'));
  return { header: part(h), claims: part(c), valid };
}
