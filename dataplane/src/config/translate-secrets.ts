/**
 * Secrets in the config translation: reading one key of a Secret (credential Secrets of providers), and the
 * client API key Secrets (label tollgate.dev/api-key: "true"), of which only a hash reaches the data plane.
 */
import { createHash } from 'node:crypto';
import type { ApiKeyConfig } from '../../../contract/gateway-config.js';
import { API_KEY_LABEL, type RawSecret } from './resources.js';
import { accept, byAge, idOf, newStatus, REASONS, type ResourceStatus } from './translate-common.js';

export type SecretIndex = Map<string, RawSecret>;

export function indexSecrets(secrets: RawSecret[]): SecretIndex {
  const index: SecretIndex = new Map();
  for (const s of secrets) {
    const id = idOf(s.metadata);
    if (!index.has(id)) index.set(id, s);
  }
  return index;
}

export type SecretValue = { ok: true; value: string } | { ok: false; reason: 'KeyNotFound' | 'InvalidSecretData' };

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

/** Reads one key of a Secret: `stringData` wins over `data` (as the API server merges them); whitespace trimmed. */
export function secretValue(secret: RawSecret, key: string): SecretValue {
  const plain = secret.stringData?.[key];
  if (typeof plain === 'string') return nonEmpty(plain.trim());
  const encoded = secret.data?.[key];
  if (typeof encoded !== 'string') return { ok: false, reason: 'KeyNotFound' };
  if (!BASE64.test(encoded)) return { ok: false, reason: 'InvalidSecretData' };
  return nonEmpty(Buffer.from(encoded, 'base64').toString('utf8').trim());
}

function nonEmpty(value: string): SecretValue {
  return value === '' ? { ok: false, reason: 'KeyNotFound' } : { ok: true, value };
}

function isKeySecret(s: RawSecret): boolean {
  return s.metadata.labels?.[API_KEY_LABEL] === 'true';
}

export function translateKeys(secrets: RawSecret[], statuses: ResourceStatus[]): ApiKeyConfig[] {
  const keys: ApiKeyConfig[] = [];
  const byHash = new Map<string, string>();
  const seen = new Set<string>();
  for (const s of [...secrets].filter(isKeySecret).sort(byAge)) {
    const id = idOf(s.metadata);
    if (seen.has(id)) continue;
    seen.add(id);
    const status = newStatus('Secret', s.metadata);
    statuses.push(status);
    const v = secretValue(s, 'key');
    if (!v.ok) {
      accept(
        status,
        false,
        REASONS.missingKey,
        v.reason === 'InvalidSecretData'
          ? `API key Secret ${id}: data.key is not valid base64; put the key base64-encoded in data.key or as plain text in stringData.key`
          : `API key Secret ${id} has no key: put it in data.key (base64) or stringData.key; until then it is not served`,
      );
      continue;
    }
    const hash = `sha256:${createHash('sha256').update(v.value).digest('hex')}`;
    const holder = byHash.get(hash);
    if (holder !== undefined) {
      accept(
        status,
        false,
        REASONS.duplicateKey,
        `API key Secret ${id} holds the same key as the older Secret ${holder}; each key must be unique, so this one is ignored`,
      );
      continue;
    }
    byHash.set(hash, id);
    const labels = { ...(s.metadata.labels ?? {}) };
    keys.push({ id, namespace: s.metadata.namespace, hash, labels });
    accept(status, true, REASONS.accepted, 'API key is served (only its hash reaches the data plane)');
  }
  return keys;
}
