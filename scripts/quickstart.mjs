// `npm start`: the quickstart in one command. Starts `tollgate simulate` (a simulated OpenAI/Anthropic
// provider on 127.0.0.1:9100) and `tollgate run -f examples/quickstart --port 8080` beside it, so a new
// user sees a working gateway with no keys. Extra arguments go to `tollgate run`. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}dist/bin/cli.js`;
if (!existsSync(cli)) {
  console.error('quickstart: dist/ is missing; run `npm ci` (or `npm run build`) first');
  process.exit(1);
}
const simPort = process.env.TOLLGATE_SIMULATE_PORT ?? '9100';
const extra = process.argv.slice(2);
const children = [
  spawn(process.execPath, [cli, 'simulate', '--port', simPort], { stdio: 'inherit' }),
  spawn(process.execPath, [cli, 'run', '-f', `${root}examples/quickstart`, '--port', '8080', ...extra], {
    stdio: 'inherit',
  }),
];
let stopping = false;
const stop = (code) => {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  process.exitCode = code;
};
for (const c of children) c.on('exit', (code) => stop(code ?? 0));
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
setTimeout(() => {
  if (stopping) return;
  console.error(`
Tollgate is serving http://127.0.0.1:8080 in front of a simulated provider. Try:
  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'
`);
}, 800).unref();
