/**
 * `tcpchat serve`: run the chat server until a signal says stop.
 *
 * - SIGINT, SIGTERM: graceful shutdown (`bye` `shutdown` to all, drain, exit 0).
 * - SIGUSR2: lame duck: stop accepting, tell clients to go (`bye` `shutdown`)
 *   spread over `shutdown_grace`, then exit 0.
 * - SIGHUP: reload the configuration (file, environment, flags); an invalid
 *   one is logged and the running configuration kept.
 *
 * @module
 */
import { type ConfigArgs, loadConfig } from "../config/load.ts";
import { applyReload } from "../config/reload.ts";
import { flagName, SETTING_NAMES, SETTING_SPECS, type Settings } from "../config/settings.ts";
import { ConfigError, type ResolvedConfig } from "../config/sources.ts";
import { tomlValue } from "../config/describe.ts";
import { flushLogging, log, type LogSetup, setupLogging } from "../ops/log.ts";
import type { HttpServer, Runtime } from "../runtime/types.ts";
import type { RoomLog } from "../store/types.ts";
import { ChatServer } from "../server/chat_server.ts";
import { warmUpMessagePath } from "../server/jit_warmup.ts";
import { TlsPairError } from "../server/tls_endpoint.ts";
import { serveOps } from "../server/metrics_http.ts";
import { pageUrl, reloadWebCertificate, serveWeb, webUsesTls } from "../server/web_listener.ts";
import { VERSION } from "../version.ts";
import { openStore, storeServices, warmUpStores, withMemoryFlag } from "./serve_store.ts";
import { clusterStores, joinCluster, redactedUrl } from "./serve_cluster.ts";
import { parseCommandArgs } from "./args.ts";
import { CliError } from "./cli_error.ts";

const UNIT_HINT: Record<string, string> = { duration: " (e.g. 30s, 250ms)", bytes: " (e.g. 16KiB)" };

/** The option lines of every setting, from the settings table (shared by `serve` and `config`). */
export function settingOptionLines(): string[] {
  return SETTING_NAMES.map((name) => {
    const spec = SETTING_SPECS[name];
    const flag = `--${flagName(name)} ${spec.kind === "bool" ? "true|false" : spec.kind.toUpperCase()}`;
    return `  ${flag.padEnd(34)} ${spec.doc}${UNIT_HINT[spec.kind] ?? ""} [${tomlValue(spec.kind, spec.default)}]`;
  });
}

/** Usage text for `tcpchat serve`, one line per setting, from the settings table. */
export function serveUsage(): string {
  return [
    "Usage: tcpchat serve [--config FILE] [options]",
    "",
    "Runs the chat server. JSON, plain-text and IRC clients share one port.",
    "Settings come from flags, then TCPCHAT_<NAME> environment variables, then the",
    "config file (--config FILE, TCPCHAT_CONFIG, or ./tcpchat.toml if present; --config ''",
    "for none), then the defaults. SIGHUP reloads; SIGUSR2 drains slowly and exits.",
    "Rooms and messages are kept in --data-dir (default ./tcpchat-data); --memory keeps",
    "them in memory only (same as --data-dir '').",
    "",
    "Options (durations in ms unless a unit is given; sizes in bytes unless a unit is given):",
    "  --config FILE                      TOML config file",
    "  --memory                           keep everything in memory (no data directory)",
    ...settingOptionLines(),
    "  -h, --help                         show this help",
  ].join("\n");
}

/**
 * Reads `--config` and one flag per setting (raw strings; values are parsed
 * with the other sources). Throws {@linkcode CliError} for unknown options,
 * or positionals beyond `maxPositionals`.
 */
export function parseSettingArgs(
  args: string[],
  usage: string,
  maxPositionals = 0,
): ConfigArgs & { positionals: string[] } {
  const options: Record<string, { type: "string" }> = { config: { type: "string" } };
  for (const name of SETTING_NAMES) options[flagName(name)] = { type: "string" };
  const { values, positionals } = parseCommandArgs(withMemoryFlag(args), options, usage);
  if (positionals.length > maxPositionals) throw new CliError(`unexpected argument ${positionals[maxPositionals]}`, usage);
  const flags: ConfigArgs["flags"] = {};
  for (const name of SETTING_NAMES) {
    const raw = values[flagName(name)];
    if (typeof raw === "string") flags[name] = raw;
  }
  return { configPath: values.config as string | undefined, flags, positionals };
}

/**
 * Loads the configuration; a bad one becomes a {@linkcode CliError} (exit 2)
 * listing every problem. `openLogFile` also checks that the log file can be
 * appended to (creating it).
 */
export async function loadConfigOrExit(runtime: Runtime, args: ConfigArgs, openLogFile = true): Promise<ResolvedConfig> {
  try {
    const config = await loadConfig(runtime, args);
    if (openLogFile) await checkLogFile(runtime, config.settings);
    return config;
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`bad configuration:\n${error.message}`);
    throw error;
  }
}

/** Fails with a {@linkcode ConfigError} when the log file cannot be opened for appending. */
async function checkLogFile(runtime: Runtime, settings: Settings): Promise<void> {
  if (settings.log_file === "") return;
  try {
    await runtime.appendFile(settings.log_file, new Uint8Array(0));
  } catch (error) {
    throw new ConfigError([{ source: settings.log_file, key: "", detail: `cannot append to log_file: ${(error as Error).message}` }]);
  }
}

/** Where and how to log, for these settings. */
function logSetup(runtime: Runtime, settings: Settings): LogSetup {
  const terminal = runtime.isTerminal("stderr");
  const format = settings.log_format === "auto" ? (terminal ? "pretty" : "json") : settings.log_format;
  return {
    level: settings.log_level,
    format,
    color: format === "pretty" && terminal,
    stderr: (bytes) => runtime.writeStderr(bytes),
    file: settings.log_file === ""
      ? undefined
      : {
        path: settings.log_file,
        // The file is never a terminal.
        format: settings.log_format === "pretty" ? "pretty" : "json",
        append: (path, bytes) => runtime.appendFile(path, bytes),
      },
  };
}

/** `jit_warmup`: compiles the message path before listening (jit_warmup.ts); a failure is logged and serving goes on. */
async function warmUp(runtime: Runtime, settings: Settings, store: RoomLog, logger: ReturnType<typeof log>): Promise<void> {
  const messages = settings.jit_warmup;
  if (messages === 0) return;
  let stores: Awaited<ReturnType<typeof warmUpStores>> | undefined;
  try {
    stores = await warmUpStores(store, settings);
    const report = await warmUpMessagePath(runtime, settings, VERSION, messages, stores.services);
    logger.info("message path warmed up messages={messages} ms={ms}", { messages: report.messages, ms: Math.round(report.ms) });
  } catch (error) {
    logger.warning("warm-up skipped: {error}", { error: (error as Error).message });
  } finally {
    stores?.close();
  }
}

const LOGGING_SETTINGS = new Set<keyof Settings>(["log_level", "log_format", "log_file"]);

/** Runs the server; resolves with the exit code once it has shut down. */
export async function serveCommand(runtime: Runtime, args: string[]): Promise<number> {
  const configArgs = parseSettingArgs(args, serveUsage());
  const config = await loadConfigOrExit(runtime, configArgs);
  const settings = config.settings;
  setupLogging(logSetup(runtime, settings));
  const logger = log("serve");
  const store = await openStore(settings);
  const server = new ChatServer(runtime, settings, VERSION, Date.now, { ...storeServices(store), ...clusterStores(store) });
  const cluster = await joinCluster(server, store);
  await warmUp(runtime, settings, store, logger);
  let addr;
  try {
    addr = await server.start();
  } catch (error) {
    // A TLS pair that cannot be used is a configuration problem (exit 2), like a bad setting.
    if (error instanceof TlsPairError) {
      await flushLogging();
      throw new CliError(`bad configuration:\n${error.message}`);
    }
    logger.fatal("cannot listen on {host}:{port}: {error}", {
      host: settings.host,
      port: settings.port,
      error: (error as Error).message,
    });
    await cluster?.stop();
    await store.close();
    await flushLogging();
    return 1;
  }
  let ops: HttpServer | undefined;
  if (settings.metrics !== "") {
    try {
      ops = await serveOps(runtime, settings.metrics, server);
    } catch (error) {
      logger.fatal("cannot serve metrics on {address}: {error}", { address: settings.metrics, error: (error as Error).message });
      await server.shutdown(0);
      await store.close();
      await flushLogging();
      return 1;
    }
  }
  let web: HttpServer | undefined;
  if (settings.http_listen !== "") {
    try {
      web = await serveWeb(runtime, server);
    } catch (error) {
      logger.fatal("cannot serve the web client on {address}: {error}", { address: settings.http_listen, error: (error as Error).message });
      await ops?.close();
      await server.shutdown(0);
      await cluster?.stop();
      await store.close();
      await flushLogging();
      return 1;
    }
    logger.info("web client at {url}", { url: pageUrl(web.addr, webUsesTls(settings)) });
  }
  const tlsAddr = server.tlsAddr;
  logger.info(`tcpchat {version} on {runtime} listening on {host}:{port}${tlsAddr ? " and TLS {tls}" : ""}, data in {dataDir}`, {
    version: VERSION,
    runtime: runtime.name,
    host: addr.hostname,
    port: addr.port,
    ...(tlsAddr ? { tls: `${tlsAddr.hostname}:${tlsAddr.port}` } : {}),
    config: config.file ?? "none",
    dataDir: settings.cluster !== "" ? `Redis ${redactedUrl(settings.cluster)}` : settings.data_dir === "" ? "memory only" : settings.data_dir,
  });
  // Plain lines on stdout for scripts and tests that wait for the ports.
  if (ops) console.log(`metrics ${ops.addr.hostname}:${ops.addr.port}`);
  if (web) console.log(`web ${pageUrl(web.addr, webUsesTls(settings))}`);
  if (server.ircAddr) console.log(`irc ${server.ircAddr.hostname}:${server.ircAddr.port}`);
  console.log(`listening ${addr.hostname}:${addr.port}`);
  if (tlsAddr) console.log(`listening tls ${tlsAddr.hostname}:${tlsAddr.port}`);

  // One reload at a time; a failed one is logged and never stops the next.
  let reloading = Promise.resolve();
  runtime.onSignal("SIGHUP", () => {
    // The TLS pair is re-read even when the configuration is refused: a renewed certificate must not wait.
    reloading = reloading.then(() => reload(runtime, configArgs, server)).finally(() => server.reloadTls())
      .finally(() => web && reloadWebCertificate(runtime, web, server.settings)).catch((error) =>
      log("config").error("reload failed, the running configuration is unchanged: {error}", { error: String(error) })
    );
  });

  // The first stop signal decides how to stop; a later SIGINT/SIGTERM hurries a lame duck along.
  let hurry = false;
  const signal = await new Promise<string>((resolve) => {
    let stopping = false;
    for (const name of ["SIGINT", "SIGTERM", "SIGUSR2"] as const) {
      runtime.onSignal(name, () => {
        if (stopping) hurry ||= name !== "SIGUSR2";
        else resolve(name);
        stopping = true;
      });
    }
  });
  let told = 0;
  let drainGraceMs = settings.shutdown_grace;
  if (signal === "SIGUSR2") {
    logger.info("{signal}: lame duck, telling {clients} clients to reconnect elsewhere over {spreadMs} ms", {
      signal,
      clients: server.connectionCount,
      spreadMs: settings.shutdown_grace,
    });
    told = await lameDuck(server, () => hurry);
    drainGraceMs = Math.min(settings.shutdown_grace, LAME_DUCK_FINAL_DRAIN_MS);
  } else {
    logger.info("{signal}: shutting down, {clients} clients connected", { signal, clients: server.connectionCount });
  }
  const result = await server.shutdown(drainGraceMs);
  logger.info("shut down: told {told} clients, drained in {drainedMs} ms, {forced} closed hard", {
    ...result,
    told: result.told + told,
  });
  await ops?.close();
  await web?.close();
  await cluster?.stop();
  await store.close();
  await flushLogging();
  return 0;
}

/** After the lame duck has told everyone, how long the last ones get to close. */
const LAME_DUCK_FINAL_DRAIN_MS = 1000;

/**
 * Stops accepting and ends each connection with `bye` `shutdown`, one after
 * another, spread evenly over `shutdown_grace` (the first at once), so the
 * clients do not all reconnect elsewhere at the same moment. Their rooms hear
 * them leave with reason `shutdown`. Returns how many were told.
 */
async function lameDuck(server: ChatServer, hurry: () => boolean): Promise<number> {
  server.stopAccepting();
  const clients = [...server.openConnections];
  const spreadMs = server.settings.shutdown_grace;
  const started = Date.now();
  let told = 0;
  while (told < clients.length && !hurry()) {
    const elapsed = Date.now() - started;
    const due = spreadMs <= 0 ? clients.length : Math.min(clients.length, Math.floor((elapsed * clients.length) / spreadMs) + 1);
    for (; told < due; told++) clients[told].end("shutdown");
    const nextAt = (told * spreadMs) / clients.length;
    await new Promise((resolve) => setTimeout(resolve, Math.max(10, nextAt - elapsed)));
  }
  return told;
}

/** SIGHUP: loads and validates the configuration, then applies it in place, or keeps the running one. */
async function reload(runtime: Runtime, args: ConfigArgs, server: ChatServer): Promise<void> {
  const logger = log("config");
  let next: ResolvedConfig;
  try {
    next = await loadConfig(runtime, args);
    await checkLogFile(runtime, next.settings);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error("reload refused, the running configuration is unchanged: {error}", {
      error: error.message,
      problems: error.problems,
    });
    return;
  }
  const settings = server.settings;
  const { changed, needRestart } = applyReload(settings, next.settings);
  if (changed.some((name) => LOGGING_SETTINGS.has(name))) setupLogging(logSetup(runtime, settings));
  server.settingsChanged();
  logger.info("reloaded {file}: {count} settings changed", {
    file: next.file ?? "(no file)",
    count: changed.length,
    changed: Object.fromEntries(changed.map((name) => [name, settings[name]])),
  });
  for (const { name, running, wanted } of needRestart) {
    logger.warning("{setting} changed to {wanted}, which needs a restart; keeping {running}", {
      setting: name,
      wanted,
      running,
    });
  }
}
