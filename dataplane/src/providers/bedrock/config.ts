/**
 * `bedrock`: Amazon Bedrock's Converse API (config half of its descriptor; ADR 0046). spec.bedrock.region is
 * required: it names the default endpoint and the SigV4 signing scope, so the GatewayConfig carries it.
 */
import { z } from 'zod';
import { defineProviderConfig } from '../type-config.js';
import { isAwsKeysJson, parseBedrockCredential } from './credential.js';

const AWS_REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

export const bedrockConfig = defineProviderConfig({
  type: 'bedrock',
  wire: 'bedrock',
  genAiName: 'aws.bedrock',
  /** The AWS region requests are signed for. */
  gatewayShape: { region: z.string().min(1) },
  block: {
    key: 'bedrock',
    schema: z.object({ region: z.string().min(1).describe('AWS region.') }).strict(),
    description: 'Amazon Bedrock settings.',
    requiredMessage: 'spec.bedrock.region: a provider of type bedrock needs spec.bedrock.region (us-east-1, ...)',
    crdFields: { region: { pattern: AWS_REGION.source } },
  },
  docs: {
    wire: 'Bedrock Converse',
    url: '`{endpoint}/model/{modelId}/converse`, `…/converse-stream` (AWS event-stream, binary) (default endpoint `https://bedrock-runtime.{region}.amazonaws.com`)',
    auth: 'SigV4 (`Authorization: AWS4-HMAC-SHA256 …`) from IAM keys, or `Authorization: Bearer` with a Bedrock API key',
  },
  check(bedrock) {
    if (!AWS_REGION.test(bedrock.region))
      return `spec.bedrock.region: must be an AWS region such as us-east-1 or eu-central-1, got "${bedrock.region}"`;
    return undefined;
  },
  defaultEndpoint: (bedrock) => `https://bedrock-runtime.${bedrock.region}.amazonaws.com`,
  gatewayFields: (bedrock): Record<string, string> => (bedrock === undefined ? {} : { region: bedrock.region }),
  credentialProblem(value) {
    if (!isAwsKeysJson(value)) return undefined;
    const parsed = parseBedrockCredential(value);
    return parsed.ok
      ? undefined
      : `JSON that is not usable AWS keys ({"accessKeyId", "secretAccessKey", "sessionToken"?}): it ${parsed.problem}`;
  },
});
