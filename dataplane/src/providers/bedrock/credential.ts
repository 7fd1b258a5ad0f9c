/**
 * The bedrock credential Secret value: a Bedrock API key (sent as `Authorization: Bearer <key>`) or IAM keys as
 * JSON `{"accessKeyId", "secretAccessKey", "sessionToken"?}` (requests are signed with SigV4). Pure parsing, no
 * adapter: the config translation checks the shape here (bedrock/config.ts), the adapter signs with the result.
 */
import { isRecord } from '../common/json.js';
import type { AwsCredentials } from './sigv4.js';

export type BedrockCredential = { kind: 'apiKey'; key: string } | { kind: 'iam'; credentials: AwsCredentials };

/** True when a Secret value is meant as IAM keys (JSON) rather than a Bedrock API key. */
export function isAwsKeysJson(value: string): boolean {
  return value.trimStart().startsWith('{');
}

/** Parses a Secret value; `{ok: false, problem}` names what is wrong with JSON that is not usable IAM keys. */
export function parseBedrockCredential(
  value: string,
): { ok: true; credential: BedrockCredential } | { ok: false; problem: string } {
  if (!isAwsKeysJson(value)) return { ok: true, credential: { kind: 'apiKey', key: value } };
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return { ok: false, problem: 'is not valid JSON' };
  }
  if (!isRecord(v)) return { ok: false, problem: 'is not a JSON object' };
  if (typeof v.accessKeyId !== 'string' || v.accessKeyId === '')
    return { ok: false, problem: 'has no accessKeyId string' };
  if (typeof v.secretAccessKey !== 'string' || v.secretAccessKey === '')
    return { ok: false, problem: 'has no secretAccessKey string' };
  if (v.sessionToken !== undefined && typeof v.sessionToken !== 'string')
    return { ok: false, problem: 'has a sessionToken that is not a string' };
  const credentials: AwsCredentials = { accessKeyId: v.accessKeyId, secretAccessKey: v.secretAccessKey };
  if (typeof v.sessionToken === 'string' && v.sessionToken !== '') credentials.sessionToken = v.sessionToken;
  return { ok: true, credential: { kind: 'iam', credentials } };
}
