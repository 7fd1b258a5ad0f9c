/**
 * The README's Kubernetes steps, verbatim, against a real API server (issue 17 item 9). The shell blocks
 * marked `<!-- readme-test: kubernetes -->` are taken from README.md as they are and run in order by bash,
 * from the repository root, with the harness's kubectl first on PATH. The block marked `kubernetes-image`
 * (docker build/push and helm install of a real image) is the only one left out. Afterwards every resource
 * of the example, read back from the API server and translated as the operator would, is Accepted with
 * every reference resolved: the steps create what the example needs before applying it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import {
  ObjectMeta,
  type RawResource,
  type RawSecret,
  type ResourceKind,
} from '../../dataplane/src/config/resources.js';
import { translate } from '../../dataplane/src/config/translate.js';
import { repoRoot } from './harness.js';
import { adminConfig, adminKubeconfigPath, kubeBin } from './support.js';

const TIMEOUT = 120_000;
const run = promisify(execFile);

/** The ```sh blocks that directly follow a `<!-- readme-test: <marker> -->` line. */
function markedBlocks(markdown: string, marker: string): string[] {
  const blocks: string[] = [];
  const re = /^<!-- readme-test: ([^\s>]+)[^>]*-->\n```sh\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(re)) if (m[1] === marker) blocks.push(m[2] ?? '');
  return blocks;
}

const PLURALS: Record<ResourceKind, string> = {
  LLMProvider: 'llmproviders',
  LLMRoute: 'llmroutes',
  QuotaPolicy: 'quotapolicies',
};

describe('README: Kubernetes steps', () => {
  const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
  const blocks = markedBlocks(readme, 'kubernetes');

  it('finds the marked blocks, and leaves out only the image build and helm install', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(blocks.join('\n')).toContain('kubectl apply -f examples/kubernetes/gateway.yaml');
    const image = markedBlocks(readme, 'kubernetes-image');
    expect(image).toHaveLength(1);
    expect(image[0]).toMatch(/^docker build[\s\S]*^helm install/m);
  });

  it(
    'runs verbatim in order, and every resource of the example is accepted with its references resolved',
    async () => {
      const env = {
        ...process.env,
        PATH: `${dirname(kubeBin('kubectl'))}:${process.env.PATH ?? ''}`,
        KUBECONFIG: adminKubeconfigPath(),
        OPENAI_API_KEY: 'sk-fake-readme-openai',
        ANTHROPIC_API_KEY: 'sk-ant-fake-readme',
      };
      for (const block of blocks) {
        try {
          await run('bash', ['-euo', 'pipefail', '-c', block], { cwd: repoRoot(), env, maxBuffer: 16 * 1024 * 1024 });
        } catch (error) {
          const e = error as { stderr?: string; stdout?: string; message: string };
          throw new Error(`README block failed:\n${block}\n${e.stderr || e.stdout || e.message}`);
        }
      }

      const kc = adminConfig();
      const custom = kc.makeApiClient(CustomObjectsApi);
      const core = kc.makeApiClient(CoreV1Api);
      const namespace = 'ai';
      const raw = async (kind: ResourceKind): Promise<RawResource[]> => {
        const list = (await custom.listNamespacedCustomObject({
          group: 'tollgate.dev',
          version: 'v1alpha1',
          namespace,
          plural: PLURALS[kind],
        })) as { items: Array<{ metadata: unknown; spec: unknown }> };
        return list.items.map((o) => ({ kind, metadata: ObjectMeta.parse(o.metadata), spec: o.spec }));
      };
      const secrets: RawSecret[] = (await core.listNamespacedSecret({ namespace })).items.map((s) => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: ObjectMeta.parse({
          name: s.metadata?.name,
          namespace: s.metadata?.namespace,
          ...(s.metadata?.labels ? { labels: s.metadata.labels } : {}),
        }),
        ...(s.data ? { data: s.data } : {}),
      }));
      const { config, statuses } = translate(
        {
          providers: await raw('LLMProvider'),
          routes: await raw('LLMRoute'),
          quotaPolicies: await raw('QuotaPolicy'),
          secrets,
        },
        { version: 1, requireKeys: true },
      );
      expect(statuses.map((s) => `${s.kind} ${s.name}`)).toEqual([
        'LLMProvider anthropic',
        'LLMProvider openai',
        'LLMRoute chat',
        'QuotaPolicy research-team',
        'Secret research-key',
      ]);
      const notClean = statuses.flatMap((s) =>
        s.conditions.filter((c) => c.status !== 'True').map((c) => `${s.kind} ${s.name}: ${c.type} ${c.message}`),
      );
      expect(notClean).toEqual([]);
      expect(config.routes[0]!.backends.map((b) => b.provider)).toEqual(['ai/openai', 'ai/anthropic']);
    },
    TIMEOUT,
  );
});
