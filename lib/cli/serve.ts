/**
 * `tcpchat serve`: run the chat server until SIGINT or SIGTERM.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { defaultSettings, parseSetting, SETTING_NAMES, SETTING_SPECS, type Settings } from "../config/settings.ts";
import { log, setupLogging } from "../ops/log.ts";
import type { Runtime } from "../runtime/types.ts";
import { ChatServer } from "../server/chat_server.ts";
import { VERSION } from "../version.ts";
import { CliError } from "./cli_error.ts";

/** `serve` flag name for a setting: `max_frame` → `max-frame`. */
export function flagName(setting: string): string {
  return setting.replaceAll("_", "-");
}

const UNIT_HINT: Record<string, string> = { duration: " (e.g. 30s, 250ms)", bytes: " (e.g. 16KiB)" };

/** Usage text for `tcpchat serve`, one line per setting, from the settings table. */
export function serveUsage(): string {
  const lines = SETTING_NAMES.map((name) => {
    const spec = SETTING_SPECS[name];
    const flag = `--${flagName(name)} ${spec.kind === "bool" ? "true|false" : spec.kind.toUpperCase()}`;
    return `  ${flag.padEnd(34)} ${spec.doc}${UNIT_HINT[spec.kind] ?? ""} [${JSON.stringify(spec.default)}]`;
  });
  return [
    "Usage: tcpchat serve [options]",
    "",
    "Runs the chat server. JSON and plain-text clients share one port.",
    "",
    "Options (durations in ms unless a unit is given; sizes in bytes unless a unit is given):",
    ...lines,
    "  -h, --help                         show this help",
  ].join("\n");
}

/** Reads settings from `serve` flags over the defaults. Throws {@linkcode CliError}. */
export function settingsFromFlags(args: string[]): Settings {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" } };
  for (const name of SETTING_NAMES) options[flagName(name)] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new CliError((error as Error).message, serveUsage());
  }
  if (values.help) throw new CliError("", serveUsage(), 0);
  const settings = defaultSettings() as unknown as Record<string, unknown>;
  for (const name of SETTING_NAMES) {
    const raw = values[flagName(name)];
    if (raw === undefined) continue;
    try {
      settings[name] = parseSetting(name, raw);
    } catch (error) {
      throw new CliError(`--${flagName(name)}: ${(error as Error).message}`, serveUsage());
    }
  }
  return settings as unknown as Settings;
}

/** Runs the server; resolves with the exit code once it has shut down. */
export async function serveCommand(runtime: Runtime, args: string[]): Promise<number> {
  const settings = settingsFromFlags(args);
  const format = settings.log_format === "auto"
    ? (runtime.isTerminal("stderr") ? "pretty" : "json")
    : settings.log_format;
  setupLogging({ level: settings.log_level, format, color: format === "pretty" && runtime.isTerminal("stderr") });
  const logger = log("serve");
  const server = new ChatServer(runtime, settings, VERSION);
  let addr;
  try {
    addr = await server.start();
  } catch (error) {
    logger.fatal("cannot listen on {host}:{port}: {error}", {
      host: settings.host,
      port: settings.port,
      error: (error as Error).message,
    });
    return 1;
  }
  logger.info("tcpchat {version} on {runtime} listening on {host}:{port}", {
    version: VERSION,
    runtime: runtime.name,
    host: addr.hostname,
    port: addr.port,
  });
  // A plain line on stdout for scripts and tests that wait for the port.
  console.log(`listening ${addr.hostname}:${addr.port}`);

  // Not Promise.withResolvers: the bundle must run on Node 20.
  const signal = await new Promise<string>((resolve) => {
    runtime.onSignal("SIGINT", () => resolve("SIGINT"));
    runtime.onSignal("SIGTERM", () => resolve("SIGTERM"));
  });
  logger.info("{signal}: shutting down, {clients} clients connected", {
    signal,
    clients: server.connectionCount,
  });
  const { told, drainedMs, forced } = await server.shutdown();
  logger.info("shut down: told {told} clients, drained in {drainedMs} ms, {forced} closed hard", {
    told,
    drainedMs,
    forced,
  });
  return 0;
}
