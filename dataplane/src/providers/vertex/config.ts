/**
 * `vertex-ai`: Google Cloud Vertex AI, Gemini and Claude models (config half of its descriptor; ADR 0046).
 * spec.vertex is required: project and location are path segments of every request, and the location names
 * the default host.
 */
import { z } from 'zod';
import { defineProviderConfig } from '../type-config.js';
import { isServiceAccountJson, parseServiceAccount } from './service-account.js';

const VERTEX_PROJECT = /^[a-z0-9][a-z0-9.:-]*$/;
const VERTEX_LOCATION = /^[a-z0-9][a-z0-9-]*$/;

/** `https://{location}-aiplatform.googleapis.com`; the global location has no prefix. */
function vertexHost(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

export const vertexConfig = defineProviderConfig({
  type: 'vertex-ai',
  wire: 'gemini',
  genAiName: 'gcp.vertex_ai',
  gatewayShape: {},
  block: {
    key: 'vertex',
    schema: z
      .object({
        project: z.string().min(1).describe('Google Cloud project.'),
        location: z.string().min(1).describe('Google Cloud location.'),
      })
      .strict(),
    description: 'Vertex AI settings.',
    requiredMessage: 'spec.vertex: a provider of type vertex-ai needs spec.vertex.project and spec.vertex.location',
    crdFields: { project: { pattern: VERTEX_PROJECT.source }, location: { pattern: VERTEX_LOCATION.source } },
  },
  docs: {
    wire: 'Gemini for Google models, Anthropic for `claude-*`',
    url: '`{endpoint}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent` / `:streamGenerateContent?alt=sse`; `…/publishers/anthropic/models/{model}:rawPredict` / `:streamRawPredict`',
    auth: '`Authorization: Bearer` (an OAuth token from the service-account key)',
  },
  check(vertex) {
    if (!VERTEX_PROJECT.test(vertex.project))
      return 'spec.vertex.project: must be a Google Cloud project id (lower-case letters, digits, -, and . or : for domain-scoped projects)';
    if (!VERTEX_LOCATION.test(vertex.location))
      return 'spec.vertex.location: must be a Google Cloud location such as us-central1, europe-west4 or global';
    return undefined;
  },
  defaultEndpoint: (vertex) => vertexHost(vertex.location),
  // The endpoint is the API host; the project and location are part of every path.
  baseUrl: (endpoint, vertex) => `${endpoint}/v1/projects/${vertex.project}/locations/${vertex.location}`,
  credentialProblem(value) {
    if (!isServiceAccountJson(value)) return undefined;
    const parsed = parseServiceAccount(value);
    return parsed.ok ? undefined : `JSON that is not a usable Google service-account key: it ${parsed.problem}`;
  },
});
