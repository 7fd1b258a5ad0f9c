import { LoadError, parseDocuments } from './load-files.js';

/**
 * A load error is logged (and printed by `tollgate run` at start), so its message must never quote the
 * file: the line at fault may be a Secret's stringData. The yaml library's own messages quote the offending
 * token for several kinds of error; these are the ones that did.
 */
const SECRET = 'sk-live-Q7pX3vLm9KsT2wRz';

const secretDoc = (line: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: openai-credentials\n  namespace: default\nstringData:\n${line}\n`;

const cases: [string, string, RegExp][] = [
  ['a block scalar header with extra characters', `  apiKey: >-${SECRET}`, /YAML syntax error: Block scalar header/],
  ['an unresolvable tag handle', `  apiKey: !${SECRET}!x y`, /YAML syntax error: Could not resolve a tag/],
  ['an unresolved alias', `  apiKey: *${SECRET}`, /creds\.yaml:1: Unresolved alias/],
  ['an invalid escape sequence', `  apiKey: "\\U${SECRET.slice(8, 16)}"`, /YAML syntax error: Invalid escape/],
];

describe('load errors never quote the file', () => {
  it.each(cases)('%s: the message has file:line but not the value', (_name, line, expected) => {
    let err: unknown;
    try {
      parseDocuments(secretDoc(line), 'creds.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadError);
    const message = (err as Error).message;
    expect(message).toMatch(/^creds\.yaml:\d+/);
    expect(message).toMatch(expected);
    // No run of the secret as short as 5 characters survives.
    for (let i = 0; i + 5 <= SECRET.length; i++) expect(message).not.toContain(SECRET.slice(i, i + 5));
  });

  it('keeps the library message when it quotes nothing', () => {
    expect(() => parseDocuments(secretDoc(`  apiKey: ${SECRET}\n  apiKey: other`), 'creds.yaml')).toThrow(
      /^creds\.yaml:8:\d+: YAML syntax error: Map keys must be unique$/,
    );
    expect(() => parseDocuments(secretDoc(`  apiKey: "${SECRET}`), 'creds.yaml')).toThrow(
      /YAML syntax error: Missing closing "quote$/,
    );
  });
});
