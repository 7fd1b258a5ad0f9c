/**
 * Type-specific provider config as `tollgate run` reports it: the file loader (FileSource, the same translate
 * as the operator) serves what is valid and logs, per rejected provider, the file:line and a message naming
 * the field. The golden case testdata/provider-type-config.* holds the full statuses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../log.js';
import { type AppliedConfig, FileSource } from './file-source.js';

const doc = (name: string, spec: string) =>
  `apiVersion: tollgate.dev/v1alpha1\nkind: LLMProvider\nmetadata: { name: ${name} }\nspec: ${spec}\n`;

describe('tollgate run: invalid type-specific provider config', () => {
  let dir: string;
  let source: FileSource | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-provider-config-'));
  });
  afterEach(() => {
    source?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the valid providers and names the field of each rejected one, with its file and line', async () => {
    const file = join(dir, 'providers.yaml');
    writeFileSync(
      file,
      [
        doc('ok', '{ type: bedrock, bedrock: { region: eu-west-1 } }'),
        doc('no-region', '{ type: bedrock }'),
        doc('no-project', '{ type: vertex-ai, vertex: { location: us-central1 } }'),
        doc('stray-block', '{ type: openai, vertex: { project: p, location: us-central1 } }'),
      ].join('---\n'),
    );
    const applied: AppliedConfig[] = [];
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'warn', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
    source = new FileSource({
      paths: [file],
      requireKeys: false,
      logger,
      onConfig: (a) => applied.push(a),
      fsWatch: false,
    });
    await source.start();

    expect(applied).toHaveLength(1);
    expect(applied[0]!.config.providers.map((p) => [p.id, p.type === 'bedrock' ? p.region : undefined])).toEqual([
      ['default/ok', 'eu-west-1'],
    ]);
    const rejected = logs
      .filter((l) => l.msg === 'resource not fully served')
      .map((l) => ({ resource: l.resource, file: l.file, reason: l.reason, message: l.message }));
    expect(rejected).toEqual([
      {
        resource: 'LLMProvider default/no-project',
        file: `${file}:11`,
        reason: 'Invalid',
        message:
          'LLMProvider default/no-project is invalid: spec.vertex.project: Invalid input: expected string, received undefined',
      },
      {
        resource: 'LLMProvider default/no-region',
        file: `${file}:6`,
        reason: 'Invalid',
        message: 'spec.bedrock.region: a provider of type bedrock needs spec.bedrock.region (us-east-1, ...)',
      },
      {
        resource: 'LLMProvider default/stray-block',
        file: `${file}:16`,
        reason: 'Invalid',
        message:
          'spec.vertex: only a provider of type vertex-ai reads spec.vertex; this one is of type openai (remove the block or change spec.type)',
      },
    ]);
  });
});
