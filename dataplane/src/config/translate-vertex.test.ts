import { testServiceAccount } from '../../../test/support/vertex-service-account.js';
import type { ResourceSnapshot } from './resources.js';
import { translate } from './translate.js';

describe('translate: vertex-ai with a service-account key', () => {
  const sa = testServiceAccount();
  const snapshot = (value: string): ResourceSnapshot => ({
    providers: [
      {
        kind: 'LLMProvider',
        metadata: { name: 'vx', namespace: 'ai' },
        spec: {
          type: 'vertex-ai',
          vertex: { project: 'my-project', location: 'us-east5' },
          auth: { secretRef: { name: 'gcp', key: 'key.json' } },
        },
      },
    ],
    routes: [],
    quotaPolicies: [],
    secrets: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'gcp', namespace: 'ai' },
        stringData: { 'key.json': value },
      },
    ],
  });

  it('accepts a usable key and carries it to the data plane as the credential', () => {
    const { config, statuses } = translate(snapshot(sa.json), { version: 1, requireKeys: false });
    expect(statuses[0]!.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Accepted', 'True'],
      ['ResolvedRefs', 'True'],
    ]);
    expect(config.providers[0]).toMatchObject({
      type: 'vertex-ai',
      baseUrl: 'https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5',
      credential: sa.json,
    });
  });

  it('an unusable key is InvalidSecretData, and the status quotes none of it', () => {
    const broken = sa.json.replace('"private_key":"-----BEGIN', '"private_key":"garbage-----BEGIN');
    const { config, statuses } = translate(snapshot(broken), { version: 1, requireKeys: false });
    expect(config.providers).toHaveLength(0);
    const resolved = statuses[0]!.conditions.find((c) => c.type === 'ResolvedRefs')!;
    expect(resolved.reason).toBe('InvalidSecretData');
    expect(resolved.message).toContain('not a PEM private key');
    expect(resolved.message).not.toMatch(/garbage|PRIVATE KEY|tollgate@/);
  });
});
