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

/** Each subcommand lives in its own module exporting `main(args): Promise<number>` (the exit code). */
const COMMANDS: Record<string, string> = {
  run: '../dataplane/src/cli/run.js',
  simulate: '../dataplane/src/cli/simulate.js',
  dataplane: '../dataplane/src/cli/dataplane.js',
  operator: '../operator/src/cli.js',
};

interface CommandModule {
  main(args: string[]): Promise<number>;
}

async function main(): Promise<number> {
  const modulePath = command === undefined ? undefined : COMMANDS[command];
  if (modulePath !== undefined) {
    const mod = (await import(modulePath)) as CommandModule;
    return mod.main(args);
  }
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
