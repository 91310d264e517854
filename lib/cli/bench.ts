/**
 * `tcpchat bench`: a load generator for sizing a deployment, in the manner of
 * `nats bench` and `redis-benchmark`. It drives a running server at one
 * address with the `fanout`, `latency` or `idle` scenario, prints a progress
 * line per second on stderr and a summary at the end (or, with `--json`, one
 * JSON object on stdout). Every run is bounded in connections and time.
 *
 * @module
 */
import { SetupError } from "../bench/bench_client.ts";
import { runFanout } from "../bench/fanout.ts";
import { runIdle } from "../bench/idle.ts";
import {
  BENCH_LIMITS,
  type BenchOptions,
  benchDefaults,
  numbered,
  type ScenarioName,
  SCENARIOS,
  SUB_DIALECTS,
  type SubDialect,
} from "../bench/options.ts";
import { MIN_TEXT_BYTES } from "../bench/publish_frames.ts";
import { formatFanoutReport, formatIdleReport, formatJson } from "../bench/report.ts";
import { parseByteSize, parseDuration } from "../config/units.ts";
import { nickProblem, roomName } from "../protocol/names.ts";
import type { Runtime } from "../runtime/types.ts";
import { parseAddress } from "./address.ts";
import { parseCommandArgs } from "./args.ts";
import { CliError } from "./cli_error.ts";

/** Usage text for `tcpchat bench`. */
export function benchUsage(): string {
  return [
    "Usage: tcpchat bench [HOST:PORT] [options]      (default 127.0.0.1:7777)",
    "",
    "Drives a running tcpchat server and reports what it sustains. Start the server",
    "without rate limits for throughput runs: tcpchat serve --rate-per-s 0",
    "",
    "Scenarios (--scenario):",
    "  fanout   in each of --rooms rooms, --pubs publishers and --subs subscribers;",
    "           publishers send as fast as --window allows, or at --rate msgs/s each.",
    "           Main figure: deliveries/s (one message received by one subscriber).",
    "  latency  fanout at a fixed rate (default 1000 msgs/s per publisher), latency",
    "           recorded on every subscriber. Main figures: p50, p99, p99.9.",
    "  idle     --conns connections registered and joined to --rooms rooms, then silent.",
    "           Main figures: set-up time; server RSS per connection with --pid.",
    "",
    "Options:",
    "  -s, --scenario NAME       fanout | latency | idle [fanout]",
    "  --rooms N                 rooms [1; idle: 10]",
    "  --pubs N                  publishers per room [1]",
    "  --subs N                  subscribers per room [100]",
    "  --conns N                 idle: connections [1000]",
    "  --rate N                  msgs/s per publisher, 0 = as fast as the window allows [0; latency: 1000]",
    "  --window N                msgs in flight per room (sent minus received by its slowest subscriber) [1000]",
    "  --batch N                 most msgs per publisher write [64]",
    "  --size BYTES              message text size, at least 13 (e.g. 100, 1KiB) [100]",
    "  --duration TIME           measure time (idle: how long connections stay silent) [5s; idle: 2s]",
    "  --warmup TIME             load before measuring [1s]",
    "  --setup-timeout TIME      limit for opening every connection [30s]",
    "  --drain TIME              after publishing, wait this long at most for every delivery [3s]",
    "  --concurrency N           connections being set up at once [32]",
    "  --all-latency             fanout: record latency on every subscriber, not the first and last of each room",
  "  --sub-dialect NAME        json | irc: what the subscribers speak (publishers speak JSON) [json]",
    "  --logins N                also log in N times a second (hello with a password, then quit), spread",
    "                            over --login-accounts accounts the run registers first [0]",
    "  --login-accounts N        accounts for --logins [100]",
    "  --login-concurrency N     logins in flight at most; the server refuses more than 5 password checks",
    "                            at once from one address [4]",
    "  --sub-addrs A,B,...       spread each room's subscribers round-robin over these HOST:PORTs (a cluster's",
    "                            nodes); publishers connect to HOST:PORT [all at HOST:PORT]",
    "  --nick-prefix TEXT        nick prefix [b + a random tag]",
    "  --room-prefix TEXT        room name prefix [bench- + the tag + -]",
    "  --ws                      connect over WebSocket: HOST:PORT is the server's --http-listen address (wss with --tls)",
    "  --pid PID                 server process: report its CPU and memory (from /proc, with its children)",
    "  --json                    print one JSON object on stdout at the end",
    "  -q, --quiet               no progress lines",
    "  --tls                     connect over TLS (the server's TLS port), verifying against the system's CAs",
    "  --ca FILE                 TLS, trusting the CA certificate(s) in FILE",
    "  --insecure                TLS without checking the certificate",
    "  -h, --help                show this help",
    "",
    "TIME is a number of seconds or has a unit (500ms, 10s, 2m). Ctrl-C ends the run early and still reports.",
    "The bench is one event loop: when it reports using about a core, or a lagging loop, its figures are lower",
    "bounds. CPU and memory figures come from Linux /proc; under Deno they need -A.",
  ].join("\n");
}

const OPTIONS = {
  scenario: { type: "string", short: "s" },
  rooms: { type: "string" },
  pubs: { type: "string" },
  subs: { type: "string" },
  conns: { type: "string" },
  rate: { type: "string" },
  window: { type: "string" },
  batch: { type: "string" },
  size: { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  "setup-timeout": { type: "string" },
  drain: { type: "string" },
  concurrency: { type: "string" },
  "all-latency": { type: "boolean" },
  "sub-dialect": { type: "string" },
  logins: { type: "string" },
  "login-accounts": { type: "string" },
  "login-concurrency": { type: "string" },
  "sub-addrs": { type: "string" },
  "nick-prefix": { type: "string" },
  "room-prefix": { type: "string" },
  ws: { type: "boolean" },
  pid: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  tls: { type: "boolean" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
} as const;

/** Text that always fits one PRIVMSG line, whatever the nick and room lengths. */
const MAX_IRC_TEXT_BYTES = 350;

/** Flags that mean something only in some scenarios; elsewhere they are a mistake. */
const ONLY_FOR: Partial<Record<keyof typeof OPTIONS, readonly ScenarioName[]>> = {
  pubs: ["fanout", "latency"],
  subs: ["fanout", "latency"],
  rate: ["fanout", "latency"],
  window: ["fanout", "latency"],
  batch: ["fanout", "latency"],
  size: ["fanout", "latency"],
  warmup: ["fanout", "latency"],
  drain: ["fanout", "latency"],
  "all-latency": ["fanout"],
  "sub-dialect": ["fanout", "latency"],
  logins: ["fanout", "latency"],
  "login-accounts": ["fanout", "latency"],
  "login-concurrency": ["fanout", "latency"],
  "sub-addrs": ["fanout", "latency"],
  conns: ["idle"],
};

function bad(message: string): CliError {
  return new CliError(message, benchUsage());
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw bad(`--${flag}: expected a whole number from ${min} to ${max}, got ${raw}`);
  return value;
}

function duration(flag: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const ms = /^\d+(?:\.\d+)?$/.test(raw) ? Math.round(Number(raw) * 1000) : parseDuration(raw);
  if (ms === undefined || ms > max) throw bad(`--${flag}: expected a time such as 5, 500ms or 2m (at most ${max / 1000} s), got ${raw}`);
  return ms;
}

/** Reads `bench` arguments over the scenario's defaults. Throws {@linkcode CliError}. */
export function benchOptionsFromArgs(args: string[]): { options: BenchOptions; json: boolean; quiet: boolean } {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, benchUsage());
  if (positionals.length > 1) throw bad(`expected at most one HOST:PORT, got ${positionals.join(" ")}`);
  const scenario = (values.scenario ?? "fanout") as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw bad(`--scenario: expected one of ${SCENARIOS.join(", ")}, got ${values.scenario}`);
  for (const [flag, scenarios] of Object.entries(ONLY_FOR)) {
    if (values[flag as keyof typeof values] !== undefined && !scenarios.includes(scenario)) {
      throw bad(`--${flag} does not apply to the ${scenario} scenario`);
    }
  }

  const d = benchDefaults(scenario);
  const { host, port } = parseAddress(positionals[0], benchUsage());
  const L = BENCH_LIMITS;
  const options: BenchOptions = {
    ...d,
    hostname: host,
    port,
    transport: values.ws === true ? "ws" : "tcp",
    rooms: integer("rooms", values.rooms, d.rooms, 1, L.connections),
    pubs: integer("pubs", values.pubs, d.pubs, 1, L.connections),
    subs: integer("subs", values.subs, d.subs, 1, L.connections),
    conns: integer("conns", values.conns, d.conns, 1, L.connections),
    ratePerPub: integer("rate", values.rate, d.ratePerPub, scenario === "latency" ? 1 : 0, 10_000_000),
    window: integer("window", values.window, d.window, 1, L.window),
    batch: integer("batch", values.batch, d.batch, 1, L.batch),
    warmupMs: duration("warmup", values.warmup, d.warmupMs, L.warmupMs),
    durationMs: duration("duration", values.duration, d.durationMs, L.durationMs),
    setupTimeoutMs: duration("setup-timeout", values["setup-timeout"], d.setupTimeoutMs, L.durationMs),
    drainMs: duration("drain", values.drain, d.drainMs, L.warmupMs),
    connectConcurrency: integer("concurrency", values.concurrency, d.connectConcurrency, 1, 1024),
    nickPrefix: values["nick-prefix"] ?? d.nickPrefix,
    roomPrefix: values["room-prefix"] ?? d.roomPrefix,
    serverPid: values.pid === undefined ? undefined : integer("pid", values.pid, 0, 1, 2 ** 31 - 1),
    latencyFromAll: d.latencyFromAll || values["all-latency"] === true,
    subDialect: (values["sub-dialect"] ?? d.subDialect) as SubDialect,
    loginRate: integer("logins", values.logins, d.loginRate, 0, 100_000),
    loginAccounts: integer("login-accounts", values["login-accounts"], d.loginAccounts, 1, L.connections),
    loginConcurrency: integer("login-concurrency", values["login-concurrency"], d.loginConcurrency, 1, 1024),
  };
  if (values["sub-addrs"] !== undefined) {
    options.subAddresses = values["sub-addrs"].split(",").map((raw) => {
      if (raw.trim() === "") throw bad(`--sub-addrs: expected HOST:PORT,HOST:PORT,..., got ${values["sub-addrs"]}`);
      const { host, port } = parseAddress(raw.trim(), benchUsage());
      return { hostname: host, port };
    });
  }
  if (!SUB_DIALECTS.includes(options.subDialect)) {
    throw bad(`--sub-dialect: expected one of ${SUB_DIALECTS.join(", ")}, got ${values["sub-dialect"]}`);
  }
  if (values.size !== undefined) {
    const size = parseByteSize(values.size);
    if (size === undefined || size < MIN_TEXT_BYTES || size > L.textBytes) {
      throw bad(`--size: expected ${MIN_TEXT_BYTES} to ${L.textBytes} bytes, got ${values.size}`);
    }
    options.textBytes = size;
  }
  if (values.ca !== undefined && values.insecure) throw bad("--ca and --insecure do not go together");
  if (values.insecure) options.tls = { insecure: true };
  else if (values.ca !== undefined) options.caFile = values.ca;
  else if (values.tls) options.tls = {};
  // A WebSocket connection speaks JSON from its first message: no IRC over it.
  if (options.subDialect === "irc" && options.transport === "ws") throw bad("--sub-dialect irc does not go with --ws (WebSocket speaks JSON only)");
  // The server cuts longer texts into several PRIVMSGs for IRC members (one line is 512 bytes at most).
  if (options.subDialect === "irc" && options.textBytes > MAX_IRC_TEXT_BYTES) {
    throw bad(`--size: IRC subscribers take at most ${MAX_IRC_TEXT_BYTES} bytes of text (one PRIVMSG line), got ${options.textBytes}`);
  }
  checkNames(options);
  return { options, json: values.json === true, quiet: values.quiet === true };
}

/** The connection count must stay bounded, and the longest nick and room name must be valid. */
function checkNames(o: BenchOptions): void {
  const idle = o.scenario === "idle";
  const connections = idle ? o.conns : o.rooms * (o.pubs + o.subs);
  if (connections > BENCH_LIMITS.connections) {
    throw bad(`${connections} connections asked for; the most is ${BENCH_LIMITS.connections}`);
  }
  if (idle && o.rooms > o.conns) throw bad(`--rooms ${o.rooms} is more than --conns ${o.conns}`);
  const longestNick = numbered(`${o.nickPrefix}x`, connections - 1, connections);
  const nickIssue = nickProblem(longestNick);
  if (nickIssue) throw bad(`--nick-prefix: nicks such as ${longestNick} are refused: ${nickIssue}`);
  const longestAccount = `${o.nickPrefix}a${o.loginAccounts - 1}`;
  const accountIssue = o.loginRate > 0 ? nickProblem(longestAccount) : undefined;
  if (accountIssue) throw bad(`--nick-prefix: account nicks such as ${longestAccount} are refused: ${accountIssue}`);
  const longestRoom = numbered(o.roomPrefix, o.rooms - 1, o.rooms);
  if (roomName(longestRoom) !== longestRoom) {
    throw bad(`--room-prefix: room names such as ${longestRoom} are invalid (1-64 of a-z 0-9 _ - .)`);
  }
}

/** Runs `tcpchat bench`; resolves with the exit code (1 when set-up failed). */
export async function benchCommand(runtime: Runtime, args: string[]): Promise<number> {
  const { options, json, quiet } = benchOptionsFromArgs(args);
  if (options.caFile !== undefined) {
    try {
      options.tls = { ca: await runtime.readTextFile(options.caFile) };
    } catch (error) {
      throw new CliError(`cannot read --ca ${options.caFile}: ${(error as Error).message}`);
    }
  }
  const say = (line: string) => console.error(line);
  const controller = new AbortController();
  const stopOnSignal = runtime.onSignal("SIGINT", () => {
    if (controller.signal.aborted) runtime.exit(130);
    say("tcpchat bench: interrupted, finishing the run (Ctrl-C again to quit at once)");
    controller.abort();
  });
  // Whatever the server does, the run ends: set-up, phases, drain and closing, plus slack.
  const limitMs = options.setupTimeoutMs + options.warmupMs + options.durationMs + options.drainMs + 15_000;
  const watchdog = setTimeout(() => {
    say(`tcpchat bench: the run took longer than ${Math.round(limitMs / 1000)} s; giving up`);
    runtime.exit(1);
  }, limitMs);
  const hooks = { signal: controller.signal, progress: quiet ? undefined : say };
  try {
    const result = options.scenario === "idle"
      ? await runIdle(runtime, options, hooks)
      : await runFanout(runtime, options, hooks);
    const summary = result.scenario === "idle" ? formatIdleReport(result) : formatFanoutReport(result);
    if (json) {
      if (!quiet) say(summary);
      console.log(formatJson(result));
    } else {
      console.log(summary);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    say(`tcpchat bench: ${error.message}`);
    return 1;
  } finally {
    clearTimeout(watchdog);
    stopOnSignal();
  }
}
