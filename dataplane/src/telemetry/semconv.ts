/**
 * The OpenTelemetry semantic-convention names Tollgate emits, copied from @opentelemetry/semantic-conventions
 * as its README asks for unstable ("incubating") conventions (ADR 0051): the GenAI names are incubating,
 * and importing that entry at run time would load 2,600 constants (~85 ms, ~4 MB of heap) for a dozen
 * strings. Names and values are the package's; semconv.test.ts checks every one against the installed
 * package (a devDependency), so an upstream rename fails a test instead of drifting silently.
 */

// Stable (semantic-conventions' main entry).
export const ATTR_ERROR_TYPE = 'error.type' as const;
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code' as const;
export const ATTR_SERVICE_NAME = 'service.name' as const;

// Incubating: GenAI attributes.
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name' as const;
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model' as const;
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model' as const;
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens' as const;

// Incubating: GenAI metrics.
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage' as const;
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration' as const;

// Incubating: `gen_ai.provider.name` values.
export const GEN_AI_PROVIDER_NAME_VALUE_OPENAI = 'openai' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI = 'azure.ai.openai' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC = 'anthropic' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI = 'gcp.gemini' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI = 'gcp.vertex_ai' as const;
export const GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK = 'aws.bedrock' as const;

// Incubating: `gen_ai.operation.name` values (Tollgate's operations are named after them).
export const GEN_AI_OPERATION_NAME_VALUE_CHAT = 'chat' as const;
export const GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS = 'embeddings' as const;

/**
 * The attribute names a Tollgate span may carry: the conventions above, or Tollgate's own `tollgate.*`.
 * Attribute objects built per request keep literal keys (a computed key `[ATTR_...]` made building such
 * an object ~8x slower in a micro-benchmark, ADR 0051) and are checked with
 * `satisfies SpanAttributes`, so a misspelt convention name fails to compile.
 */
export type SpanAttributeName =
  | typeof ATTR_ERROR_TYPE
  | typeof ATTR_HTTP_RESPONSE_STATUS_CODE
  | typeof ATTR_GEN_AI_OPERATION_NAME
  | typeof ATTR_GEN_AI_PROVIDER_NAME
  | typeof ATTR_GEN_AI_REQUEST_MODEL
  | typeof ATTR_GEN_AI_RESPONSE_MODEL
  | typeof ATTR_GEN_AI_USAGE_INPUT_TOKENS
  | typeof ATTR_GEN_AI_USAGE_OUTPUT_TOKENS
  | `tollgate.${string}`;
export type SpanAttributes = { [K in SpanAttributeName]?: string | number | boolean };
