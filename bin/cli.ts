#!/usr/bin/env node
/** `tollgate` command line: run | operator | dataplane | simulate. Each subcommand parses its own flags. */
const [command, ...args] = process.argv.slice(2);

const usage = `tollgate <command> [flags]

Commands:
  run         serve the gateway from YAML files, no Kubernetes needed
  operator    the Kubernetes controller
  dataplane   a proxy pod that takes its config from the operator
  simulate    a simulated OpenAI/Anthropic-compatible provider

Run 'tollgate <command> --help' for its flags.`;

async function main(): Promise<number> {
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(usage);
      return 0;
    default:
      console.error(`tollgate: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

main().then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
