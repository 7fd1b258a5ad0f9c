/**
 * `vertex-ai` as one descriptor (ADR 0046): the Gemini wire for Google models and the Anthropic wire for
 * `claude-*` (its adapter's wireFor; translators are gemini's and anthropic's), and the exchange of a
 * service-account key for OAuth access tokens that proxy/credentials.ts performs.
 */
import type { ProviderDescriptor, TokenExchange } from '../types.js';
import { vertexAdapter } from './adapter.js';
import { vertexConfig } from './config.js';
import {
  isServiceAccountJson,
  parseServiceAccount,
  parseTokenResponse,
  type ServiceAccount,
  signAssertion,
  tokenRequestBody,
} from './service-account.js';

/** A service-account key (JSON) → signed JWT assertion → token_uri → access token. */
export const serviceAccountExchange: TokenExchange<ServiceAccount> = {
  keyName: 'service-account key',
  applies: isServiceAccountJson,
  parse: parseServiceAccount,
  request: (account, nowS) => ({ url: account.tokenUri, body: tokenRequestBody(signAssertion(account, nowS)) }),
  answer: parseTokenResponse,
};

export const vertexDescriptor: ProviderDescriptor = {
  config: vertexConfig,
  adapter: vertexAdapter,
  credentials: serviceAccountExchange,
};
