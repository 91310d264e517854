/**
 * Gathers the configuration sources of a running process (the config file,
 * the environment, the flags) through the runtime layer and resolves them.
 * Used at start, by `tcpchat config`, and again on every SIGHUP.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import { ConfigError, type ResolvedConfig, resolveConfig, type SettingName } from "./sources.ts";

/** The config file read when neither `--config` nor `TCPCHAT_CONFIG` names one (only if it exists). */
export const DEFAULT_CONFIG_FILE = "tcpchat.toml";

/** What a command was given: an explicit config file (`""` for none) and raw flag values. */
export interface ConfigArgs {
  configPath?: string;
  flags: Partial<Record<SettingName, string>>;
}

/**
 * The config file to read: `--config`, else `TCPCHAT_CONFIG`, else
 * `tcpchat.toml` if it exists. An empty path means no file.
 */
export function configFileChoice(
  args: Pick<ConfigArgs, "configPath">,
  env: (name: string) => string | undefined,
): { path: string; required: boolean } {
  const named = args.configPath ?? env("TCPCHAT_CONFIG");
  return named === undefined ? { path: DEFAULT_CONFIG_FILE, required: false } : { path: named, required: true };
}

/** Reads the file (if any), the environment and the flags; throws {@linkcode ConfigError}. */
export async function loadConfig(
  runtime: Pick<Runtime, "readTextFile" | "env" | "name">,
  args: ConfigArgs,
): Promise<ResolvedConfig> {
  const env = (name: string) => runtime.env(name);
  const { path, required } = configFileChoice(args, env);
  let file: { path: string; text: string } | undefined;
  if (path !== "") {
    try {
      file = { path, text: await runtime.readTextFile(path) };
    } catch (error) {
      if (required || !isNotFound(error)) {
        throw new ConfigError([{ source: path, key: "", detail: `cannot read: ${(error as Error).message}` }]);
      }
    }
  }
  return resolveConfig({ file, env, flags: args.flags, engine: runtime.name });
}

/** Whether a file error means "no such file" (Node and Bun set `code`, Deno names the class). */
function isNotFound(error: unknown): boolean {
  const e = error as { code?: unknown; name?: unknown };
  return e?.code === "ENOENT" || e?.name === "NotFound";
}
