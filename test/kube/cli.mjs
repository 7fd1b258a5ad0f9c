// `npm run kube:up` / `npm run kube:down`: loads the TypeScript harness with Node 24's type stripping.
import { cli } from './harness.ts';

process.exitCode = await cli(process.argv.slice(2));
