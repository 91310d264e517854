/**
 * `tcpchat config`: check a configuration, print the effective one with where
 * each value came from, or print a commented example file.
 *
 * @module
 */
import { effectiveToml, exampleToml } from "../config/describe.ts";
import type { Runtime } from "../runtime/types.ts";
import { CliError } from "./cli_error.ts";
import { loadConfigOrExit, parseSettingArgs, settingOptionLines } from "./serve.ts";

/** Usage text for `tcpchat config`. */
export function configUsage(): string {
  return [
    "Usage: tcpchat config check [FILE] [--config FILE] [options]",
    "       tcpchat config print [--config FILE] [options]",
    "       tcpchat config example",
    "",
    "check    validates the configuration serve would use (FILE, or as serve finds it,",
    "         with the environment and the options); exit 0 when usable, 2 when not",
    "print    prints the effective configuration as TOML, each line commented with",
    "         where its value came from: default, file, env or flag",
    "example  prints a commented example file with every setting at its default",
    "",
    "Options: the same as tcpchat serve:",
    ...settingOptionLines(),
  ].join("\n");
}

/** Runs `tcpchat config ...`; resolves with the exit code. */
export async function configCommand(runtime: Runtime, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case "check": {
      const parsed = parseSettingArgs(rest, configUsage(), 1);
      if (parsed.positionals[0] !== undefined) {
        if (parsed.configPath !== undefined) throw new CliError("give the file either as FILE or as --config", configUsage());
        parsed.configPath = parsed.positionals[0];
      }
      const config = await loadConfigOrExit(runtime, parsed, false);
      console.log(`${config.file ?? "configuration (no file)"}: ok`);
      return 0;
    }
    case "print": {
      const config = await loadConfigOrExit(runtime, parseSettingArgs(rest, configUsage()), false);
      console.log(`# effective tcpchat configuration${config.file ? ` (file ${config.file})` : " (no file)"}`);
      console.log(effectiveToml(config.settings, config.origins, config.file).trimEnd());
      return 0;
    }
    case "example":
      if (rest.length > 0) throw new CliError(`unexpected argument ${rest[0]}`, configUsage());
      console.log(exampleToml().trimEnd());
      return 0;
    case "-h":
    case "--help":
    case "help":
      console.log(configUsage());
      return 0;
    default:
      throw new CliError(action === undefined ? "" : `unknown config action ${action}`, configUsage());
  }
}
