/** `tollgate operator`: parses flags, starts the operator, and shuts down gracefully on SIGTERM/SIGINT. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createLogger } from '../../dataplane/src/log.js';
import { OPERATOR_USAGE, parseOperatorFlags } from './flags.js';
import { startOperator } from './operator.js';

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOperatorFlags>;
  try {
    const ns = inClusterNamespace();
    parsed = parseOperatorFlags(args, {
      env: process.env,
      hostname: hostname(),
      ...(ns ? { inClusterNamespace: ns } : {}),
    });
  } catch (error) {
    console.error(`tollgate operator: ${(error as Error).message}\n\n${OPERATOR_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(OPERATOR_USAGE);
    return 0;
  }
  const logger = createLogger({ fields: { component: 'operator' } });
  const handle = await startOperator(parsed.flags, logger);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info('shutting down');
  await handle.stop();
  return 0;
}
