/**
 * Strict argument parsing shared by the commands: `node:util` `parseArgs`
 * with `--help`, where every mistake becomes a {@linkcode CliError} that
 * prints the command's usage and exits 2.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { CliError } from "./cli_error.ts";

/** Parses `args` against `options` (plus `-h/--help`); throws CliError with `usage` on a mistake or for help. */
export function parseCommandArgs<O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
  usage: string,
): { values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>["values"]; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    throw new CliError((error as Error).message, usage);
  }
  if ((parsed.values as { help?: boolean }).help) throw new CliError("", usage, 0);
  return parsed as never;
}
