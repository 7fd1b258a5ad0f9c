import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROVIDER_CONFIGS } from '../dataplane/src/providers/configs.js';
import { BEGIN, END, providerTable, renderTranslationDoc, TRANSLATION_DOC } from './gen-provider-docs.js';

const path = join(dirname(fileURLToPath(import.meta.url)), '..', TRANSLATION_DOC);

describe('docs/translation.md provider table', () => {
  it('equals the generator output (UPDATE_GOLDEN=1 rewrites it)', () => {
    const text = readFileSync(path, 'utf8');
    const rendered = renderTranslationDoc(text);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, rendered);
    expect(readFileSync(path, 'utf8')).toBe(rendered);
  });

  it('has one row per provider type, in the order of providers/configs.ts', () => {
    const types = [...providerTable().matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(types).toEqual(PROVIDER_CONFIGS.map((c) => c.type));
    const text = readFileSync(path, 'utf8');
    expect(text.slice(text.indexOf(BEGIN), text.indexOf(END))).toContain(providerTable());
  });

  it('refuses a page without its markers instead of writing the table somewhere', () => {
    expect(() => renderTranslationDoc('# no markers\n')).toThrow('needs the markers');
  });
});
