/**
 * tcpchat command-line entry: picks a command and maps errors to exit codes
 * (0 success, 1 runtime failure, 2 bad usage).
 *
 * @module
 */
import { CliError } from "./lib/cli/cli_error.ts";
import { configCommand } from "./lib/cli/config.ts";
import { connectCommand } from "./lib/cli/connect.ts";
import { sendCommand } from "./lib/cli/send.ts";
import { serveCommand } from "./lib/cli/serve.ts";
import { getRuntime } from "./lib/runtime/mod.ts";
import type { Runtime } from "./lib/runtime/types.ts";
import { COMMIT, VERSION } from "./lib/version.ts";

/** A subcommand: its one-line summary and how to run it. */
interface Command {
  summary: string;
  run(runtime: Runtime, args: string[]): Promise<number>;
}

/** Only commands that work are listed (and so shown in the help). */
const COMMANDS: Record<string, Command> = {
  serve: { summary: "run the chat server (tcpchat serve --help for options)", run: serveCommand },
  bench: { summary: "load-test a running server (tcpchat bench --help for options)", run: async (rt, args) => (await import("./lib/cli/bench.ts")).benchCommand(rt, args) },
  config: { summary: "check or print the configuration: tcpchat config check|print|example", run: configCommand },
  connect: { summary: "chat in the terminal: tcpchat connect [HOST:PORT] --nick NAME", run: connectCommand },
  send: { summary: "send a message from a script: tcpchat send [HOST:PORT] --nick NAME --room ROOM TEXT", run: sendCommand },
  account: { summary: "manage accounts: tcpchat account add|passwd|del|list --data-dir DIR (server stopped) or --cluster URL", run: async (rt, args) => (await import("./lib/cli/account_command.ts")).accountCommand(rt, args) },
  backup: { summary: "copy a data directory's database while the server runs: tcpchat backup --data-dir DIR FILE", run: async (rt, args) => (await import("./lib/cli/backup.ts")).backupCommand(rt, args) },
};

function usage(): string {
  return [
    "tcpchat: a small, fast TCP chat server and client",
    "",
    "Usage: tcpchat <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show this help",
    "  -V, --version  show the version",
  ].join("\n");
}

async function main(runtime: Runtime): Promise<number> {
  const [first, ...rest] = runtime.args;
  if (first === undefined) {
    console.error(usage());
    return 2;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    console.log(usage());
    return 0;
  }
  if (first === "--version" || first === "-V") {
    console.log(`tcpchat ${VERSION} (${COMMIT}) on ${runtime.name} ${runtime.version}`);
    return 0;
  }
  const command = COMMANDS[first];
  if (!command) {
    const what = first.startsWith("-") ? `unknown option ${first}` : `unknown command ${first}`;
    throw new CliError(what, usage());
  }
  return await command.run(runtime, rest);
}

const runtime = getRuntime();
try {
  runtime.exit(await main(runtime));
} catch (error) {
  if (error instanceof CliError) {
    if (error.message) console.error(`tcpchat: ${error.message}\n`);
    if (error.usage) (error.exitCode === 0 ? console.log : console.error)(error.usage);
    runtime.exit(error.exitCode);
  }
  console.error(`tcpchat: ${(error as Error)?.stack ?? error}`);
  runtime.exit(1);
}
