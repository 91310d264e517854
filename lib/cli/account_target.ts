/**
 * Where `tcpchat account` works: a data directory's database, or a
 * cluster's Redis. Chosen as `serve` would choose its store: `--cluster URL`
 * or `--data-dir DIR` on the command line (not both), else the `cluster` and
 * `data_dir` settings from the environment and the config file (`--config
 * FILE`, `TCPCHAT_CONFIG`, or `./tcpchat.toml`): a `cluster` set there means
 * Redis, else the data directory.
 *
 * @module
 */
import { loadConfig } from "../config/load.ts";
import { parseSetting } from "../config/settings.ts";
import { ConfigError } from "../config/sources.ts";
import type { Runtime } from "../runtime/types.ts";
import { CliError } from "./cli_error.ts";

/** The accounts' home: a Redis URL (`cluster`) or a data directory (`dir`). */
export type AccountTarget = { cluster: string } | { dir: string };

/** Takes `--NAME VALUE` or `--NAME=VALUE` out of `args` (in place); undefined when absent. */
function takeOption(args: string[], name: string, usage: string): string | undefined {
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return undefined;
  const arg = args[at];
  if (arg.includes("=")) {
    args.splice(at, 1);
    return arg.slice(arg.indexOf("=") + 1);
  }
  if (args[at + 1] === undefined) throw new CliError(`--${name} needs a value`, usage);
  const value = args[at + 1];
  args.splice(at, 2);
  return value;
}

/**
 * Takes `--data-dir`, `--cluster` and `--config` out of `args` (in place).
 * The config file is read later, by {@linkcode resolveAccountTarget}, so
 * that usage mistakes are reported first.
 */
export function takeTargetOptions(args: string[], usage: string): { dir?: string; cluster?: string; config?: string } {
  const dir = takeOption(args, "data-dir", usage);
  const cluster = takeOption(args, "cluster", usage);
  const config = takeOption(args, "config", usage);
  if (dir !== undefined && cluster !== undefined) {
    throw new CliError("give either --data-dir or --cluster: accounts live in one place", usage);
  }
  return { dir, cluster, config };
}

/** The target the options, environment and config file name; a bad URL or configuration is a {@linkcode CliError} (exit 2). */
export async function resolveAccountTarget(
  runtime: Runtime,
  options: { dir?: string; cluster?: string; config?: string },
  usage: string,
): Promise<AccountTarget> {
  if (options.cluster !== undefined) return { cluster: checkedUrl(options.cluster, "--cluster", usage) };
  if (options.dir !== undefined) return { dir: options.dir };
  // As serve reads them: defaults, then the file, then TCPCHAT_* (a flag was not given).
  let settings;
  try {
    settings = (await loadConfig(runtime, { configPath: options.config, flags: {} })).settings;
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`bad configuration:\n${error.message}`);
    throw error;
  }
  return settings.cluster !== "" ? { cluster: settings.cluster } : { dir: settings.data_dir };
}

function checkedUrl(raw: string, where: string, usage: string): string {
  if (raw === "") throw new CliError(`${where} is empty: give the cluster's redis:// or rediss:// URL`, usage);
  try {
    return parseSetting("cluster", raw);
  } catch (error) {
    throw new CliError(`${where}: ${(error as Error).message}`, usage);
  }
}
