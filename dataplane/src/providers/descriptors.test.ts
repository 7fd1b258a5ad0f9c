import { ProviderConfigSchema, WIRE_FORMATS } from '../../../contract/gateway-config.js';
import { LLMProviderSpec } from '../config/resources.js';
import { GENAI_PROVIDER_NAMES, PROVIDER_CONFIGS, PROVIDER_TYPES } from './configs.js';
import { DESCRIPTORS } from './descriptors.js';
import { adapterFor, isImplementedProviderType, translatorFor } from './index.js';

describe('provider descriptors: every list of provider types comes from the provider folders', () => {
  it('has one descriptor per config half, holding that very config', () => {
    expect(Object.keys(DESCRIPTORS).sort()).toEqual([...PROVIDER_TYPES].sort());
    for (const c of PROVIDER_CONFIGS) expect(DESCRIPTORS[c.type].config).toBe(c);
  });

  it('the registry serves each descriptor adapter, and the adapter speaks the wire its config names', () => {
    for (const c of PROVIDER_CONFIGS) {
      expect(isImplementedProviderType(c.type)).toBe(true);
      expect(adapterFor(c.type)).toBe(DESCRIPTORS[c.type].adapter);
      expect(adapterFor(c.type).wire).toBe(c.wire);
    }
  });

  it('each wire has its translators from exactly one descriptor, and translatorFor hands out those', () => {
    const owners = Object.values(DESCRIPTORS).flatMap((d) => (d.translators ? [d.translators] : []));
    expect(owners.map((t) => t.wire).sort()).toEqual([...WIRE_FORMATS].sort());
    for (const t of owners) {
      expect(translatorFor('openai', t.wire, 'chat')).toBe(t.chat.openai);
      expect(translatorFor('anthropic', t.wire, 'chat')).toBe(t.chat.anthropic);
      if (t.embeddings?.openai) expect(translatorFor('openai', t.wire, 'embeddings')).toBe(t.embeddings.openai);
      else expect(() => translatorFor('openai', t.wire, 'embeddings')).toThrow(t.noEmbeddings);
    }
  });

  it('the contract has one variant per type and the spec enum lists the types in the configs order', () => {
    expect(ProviderConfigSchema.options.map((o) => o.shape.type.value)).toEqual([...PROVIDER_TYPES]);
    expect(LLMProviderSpec.safeParse({ type: 'not-a-type' }).success).toBe(false);
    for (const type of PROVIDER_TYPES) {
      const parsed = LLMProviderSpec.safeParse({ type });
      expect(parsed.success).toBe(true);
    }
  });

  it('a type-specific GatewayConfig field is required by its own variant only', () => {
    const base = {
      id: 'ai/p',
      namespace: 'ai',
      name: 'p',
      baseUrl: 'https://example.test',
      models: [],
      connectTimeoutMs: 1,
      requestTimeoutMs: 1,
    };
    const bedrock = ProviderConfigSchema.safeParse({ ...base, type: 'bedrock' });
    expect(bedrock.success).toBe(false);
    expect(bedrock.error?.issues.map((i) => i.path.join('.'))).toEqual(['region']);
    expect(ProviderConfigSchema.safeParse({ ...base, type: 'bedrock', region: 'us-east-1' }).success).toBe(true);
    const azure = ProviderConfigSchema.safeParse({ ...base, type: 'azure-openai' });
    expect(azure.error?.issues.map((i) => i.path.join('.'))).toEqual(['apiVersion']);
    expect(ProviderConfigSchema.safeParse({ ...base, type: 'openai' }).success).toBe(true);
  });

  it('names each type as the OTel GenAI semantic conventions do (gen_ai.provider.name)', () => {
    expect(GENAI_PROVIDER_NAMES).toEqual({
      openai: 'openai',
      'azure-openai': 'azure.ai.openai',
      anthropic: 'anthropic',
      'openai-compatible': 'openai',
      gemini: 'gcp.gemini',
      'vertex-ai': 'gcp.vertex_ai',
      bedrock: 'aws.bedrock',
    });
  });
});
