// `npm run kube:up` / `npm run kube:down`: loads the TypeScript harness with Node 24's type stripping.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.TOLLGATE_REPO_ROOT ??= resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { cli } = await import('./harness.ts');
process.exitCode = await cli(process.argv.slice(2));
