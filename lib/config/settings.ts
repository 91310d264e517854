/**
 * Every server setting in one table: name, kind, default, unit and a doc line.
 * The CLI derives one flag per setting from it (`max_frame` → `--max-frame`),
 * and the config file and environment read the same table, so a setting is
 * declared exactly once.
 *
 * @module
 */
import * as v from "valibot";
import { parseByteSize, parseDuration } from "./units.ts";

/** The effective settings of a running server. Durations are in ms, sizes in bytes. */
export interface Settings {
  host: string;
  port: number;
  server_name: string;
  max_frame: number;
  max_text: number;
  register_timeout: number;
  heartbeat_interval: number;
  heartbeat_max_missed: number;
  text_idle_timeout: number;
  max_connections: number;
  max_per_ip: number;
  per_ip_exempt_loopback: boolean;
  rate_per_s: number;
  burst: number;
  flood_strikes: number;
  max_pending: number;
  write_timeout: number;
  history: number;
  history_on_join: number;
  snapshot_bytes: number;
  history_memory: number;
  memory_release_growth: number;
  jit_warmup: number;
  default_room: string;
  max_rooms: number;
  max_rooms_per_user: number;
  snapshot_members: number;
  crowd_size: number;
  crowd_interval: number;
  ip_rate_per_s: number;
  ip_burst: number;
  connect_rate_per_ip: number;
  connect_burst_per_ip: number;
  max_tracked_addresses: number;
  shutdown_grace: number;
  log_level: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
  log_format: "auto" | "pretty" | "json";
  log_file: string;
  metrics: string;
  http_listen: string;
  ws_origins: string;
  http_tls: "auto" | "off";
  tls_listen: string;
  tls_cert: string;
  tls_key: string;
  plaintext_auth: "loopback" | "allow";
  irc_listen: string;
  registration: "open" | "closed";
  password_min_length: number;
  operators: string;
  data_dir: string;
  cluster: string;
  node_lease: number;
}

/** How a setting's value is written in flags, env and files. */
export type SettingKind = "string" | "int" | "duration" | "bytes" | "bool" | "number";

/**
 * When a changed value takes effect on a SIGHUP reload: `live` at once, for
 * existing and new connections; `new_connections` for connections accepted
 * after the reload; `restart` only after a restart (a reload keeps the old value).
 */
export type ReloadEffect = "live" | "new_connections" | "restart";

/** One row of the settings table. */
export interface SettingSpec<T> {
  kind: SettingKind;
  default: T;
  /** One line for `--help` and the example config. */
  doc: string;
  /** Extra validation on the parsed value (range, allowed words). */
  check?: v.GenericSchema<T, T>;
  /** How a reload applies a change; `live` when absent. */
  reload?: ReloadEffect;
}

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1, "must be at least 1"));
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0, "must be 0 or more"));
const hostPortOrEmpty = v.pipe(
  v.string(),
  v.regex(/^$|^(?:\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):\d{1,5}$/, "must be HOST:PORT (e.g. 127.0.0.1:9100) or empty"),
);
const roomOrEmpty = v.pipe(
  v.string(),
  v.regex(/^$|^#?[a-z0-9_.\-]{1,64}$/, "a room name (a-z 0-9 _ - ., 1-64 chars) or empty"),
);

/** A comma list of account names: each 1-32 characters, no spaces, commas or controls. */
const accountList = v.pipe(
  v.string(),
  v.check(
    (raw) => raw.trim() === "" || raw.split(",").every((name) => /^[^\s,\p{Cc}]{1,32}$/u.test(name.trim())),
    "must be account names separated by commas (e.g. alice,bob)",
  ),
);

/** The settings table; keys are the names used in files, env (upper-cased) and flags (kebab-cased). */
export const SETTING_SPECS: { [K in keyof Settings]: SettingSpec<Settings[K]> } = {
  host: { kind: "string", default: "0.0.0.0", doc: "address to listen on", reload: "restart" },
  port: {
    kind: "int",
    default: 7777,
    doc: "TCP port to listen on (0 picks a free one)",
    check: v.pipe(v.number(), v.integer(), v.minValue(0, "must be 0 to 65535"), v.maxValue(65535, "must be 0 to 65535")),
    reload: "restart",
  },
  server_name: { kind: "string", default: "tcpchat", doc: "name sent to clients in welcome" },
  max_frame: {
    kind: "bytes",
    default: 16384,
    doc: "longest line accepted, LF excluded",
    check: positiveInt,
    // Each connection's line splitter is sized once, and welcome told the client the old value.
    reload: "new_connections",
  },
  max_text: { kind: "int", default: 4000, doc: "longest msg/dm text, in characters", check: positiveInt },
  register_timeout: {
    kind: "duration",
    default: 60_000,
    doc: "time a connection has to register before it is closed",
    check: positiveInt,
  },
  heartbeat_interval: {
    kind: "duration",
    default: 30_000,
    doc: "silence after which a json connection is pinged",
    check: positiveInt,
  },
  heartbeat_max_missed: {
    kind: "int",
    default: 3,
    doc: "intervals of silence before a json connection times out",
    check: positiveInt,
  },
  text_idle_timeout: {
    kind: "duration",
    default: 15 * 60_000,
    doc: "silence after which a text connection is closed",
    check: positiveInt,
  },
  max_connections: { kind: "int", default: 10_000, doc: "connections served at once", check: positiveInt },
  max_per_ip: { kind: "int", default: 16, doc: "connections at once from one address", check: positiveInt },
  per_ip_exempt_loopback: {
    kind: "bool",
    default: true,
    doc: "whether loopback addresses are exempt from max_per_ip and the per-address rates",
  },
  rate_per_s: {
    kind: "number",
    default: 5,
    doc: "frames that reach others (msg, dm, join, nick, status) per second per connection (0 turns rate limiting off)",
    check: v.pipe(v.number(), v.minValue(0)),
  },
  burst: { kind: "int", default: 10, doc: "rate-limit bucket size", check: positiveInt },
  flood_strikes: {
    kind: "int",
    default: 20,
    doc: "rate-limited frames (one forgiven per second) before the sender is closed for flooding",
    check: positiveInt,
  },
  max_pending: {
    kind: "bytes",
    default: 1024 * 1024,
    doc: "outbound bytes queued for one connection before it is closed as a slow consumer",
    check: positiveInt,
  },
  write_timeout: {
    kind: "duration",
    default: 10_000,
    doc: "time a write may make no progress before the reader is closed as a slow consumer",
    check: positiveInt,
  },
  history: {
    kind: "int",
    default: 10_000,
    doc: "messages kept per room (when not set: 10000 with a data_dir or a cluster, 100 without)",
    check: nonNegativeInt,
  },
  history_on_join: {
    kind: "int",
    default: 20,
    doc: "kept messages sent on a join without since",
    check: nonNegativeInt,
  },
  snapshot_bytes: {
    kind: "bytes",
    default: 256 * 1024,
    doc: "history bytes in one room snapshot or history page (at most half of max_pending); the rest is paged",
    check: positiveInt,
  },
  history_memory: {
    kind: "bytes",
    default: 64 * 1024 * 1024,
    doc: "history bytes held in memory across rooms; the least recently active rooms' oldest messages go first",
    check: nonNegativeInt,
  },
  memory_release_growth: {
    kind: "bytes",
    default: 16 * 1024 * 1024,
    doc: "resident memory growth after which the first quiet half second runs a full garbage collection that gives memory back (a pause of a few ms); 0 turns it off",
    check: nonNegativeInt,
  },
  jit_warmup: {
    kind: "int",
    default: 20_000,
    doc: "messages passed through a private loopback server before listening, so the JIT has compiled the message path before clients arrive (about a second of CPU; when not set: 20000 on Bun, 0 on Deno and Node; 0 turns it off)",
    check: nonNegativeInt,
    reload: "restart",
  },
  default_room: {
    kind: "string",
    default: "lobby",
    doc: "room every registered connection joins (empty: none)",
    check: roomOrEmpty,
  },
  max_rooms: {
    kind: "int",
    default: 10_000,
    doc: "rooms kept at once; empty rooms are forgotten oldest first past it",
    check: positiveInt,
  },
  max_rooms_per_user: {
    kind: "int",
    default: 100,
    doc: "rooms one session may be in at once (too_many_rooms past it)",
    check: positiveInt,
  },
  snapshot_members: {
    kind: "int",
    default: 100,
    doc: "nicks listed in a room snapshot (the joiner first); who pages through the rest",
    check: positiveInt,
  },
  crowd_size: {
    kind: "int",
    default: 500,
    doc: "members above which a room's joins and leaves are summarised in crowd events",
    check: positiveInt,
  },
  crowd_interval: {
    kind: "duration",
    default: 2_000,
    doc: "at most one crowd summary per crowded room per this interval",
    check: positiveInt,
  },
  ip_rate_per_s: {
    kind: "number",
    default: 20,
    doc: "token-spending frames per second shared by all connections from one address (0: off)",
    check: v.pipe(v.number(), v.minValue(0)),
  },
  ip_burst: { kind: "int", default: 40, doc: "per-address rate-limit bucket size", check: positiveInt },
  connect_rate_per_ip: {
    kind: "number",
    default: 10,
    doc: "new connections per second from one address (0: off)",
    check: v.pipe(v.number(), v.minValue(0)),
  },
  connect_burst_per_ip: {
    kind: "int",
    default: 20,
    doc: "new connections from one address accepted in a burst",
    check: positiveInt,
  },
  max_tracked_addresses: {
    kind: "int",
    default: 65_536,
    doc: "addresses whose rate-limit state is kept; idle ones are forgotten first past it",
    check: positiveInt,
  },
  shutdown_grace: {
    kind: "duration",
    default: 5_000,
    doc: "time to flush and close connections on shutdown",
    check: nonNegativeInt,
  },
  log_level: {
    kind: "string",
    default: "info",
    doc: "trace, debug, info, warning, error or fatal",
    check: v.picklist(["trace", "debug", "info", "warning", "error", "fatal"], "must be trace, debug, info, warning, error or fatal"),
  },
  log_format: {
    kind: "string",
    default: "auto",
    doc: "pretty, json, or auto (pretty on a terminal, json otherwise; the log file is never a terminal)",
    check: v.picklist(["auto", "pretty", "json"], "must be auto, pretty or json"),
  },
  log_file: {
    kind: "string",
    default: "",
    doc: "also append log lines to this file (empty: none); recreated if it vanishes",
  },
  metrics: {
    kind: "string",
    default: "",
    doc: "HOST:PORT to serve /metrics, /healthz and /readyz over HTTP (empty: off)",
    check: hostPortOrEmpty,
    reload: "restart",
  },
  http_listen: {
    kind: "string",
    default: "",
    doc: "HOST:PORT to serve the browser client at / and WebSocket at /ws (empty: off)",
    check: hostPortOrEmpty,
    reload: "restart",
  },
  ws_origins: {
    kind: "string",
    default: "",
    doc: "comma-separated origins allowed to open /ws (e.g. https://chat.example.org); * allows any; empty: the server's own host only",
    reload: "new_connections",
  },
  http_tls: {
    kind: "string",
    default: "auto",
    doc: "auto: with tls_listen set, http_listen serves https and wss with tls_cert and tls_key; off: plain http (behind a proxy that terminates TLS)",
    check: v.picklist(["auto", "off"], "must be auto or off"),
    reload: "restart",
  },
  tls_listen: {
    kind: "string",
    default: "",
    doc: "HOST:PORT for the TLS listener, same dialects as the plain port (empty: off; needs tls_cert and tls_key)",
    check: hostPortOrEmpty,
    reload: "restart",
  },
  tls_cert: {
    kind: "string",
    default: "",
    doc: "PEM file with the TLS certificate chain; re-read on SIGHUP",
  },
  tls_key: {
    kind: "string",
    default: "",
    doc: "PEM file with the TLS private key; re-read on SIGHUP",
  },
  plaintext_auth: {
    kind: "string",
    default: "loopback",
    doc: "with TLS on: loopback refuses passwords over plain TCP from other hosts (tls_required), allow accepts them",
    check: v.picklist(["loopback", "allow"], "must be loopback or allow"),
  },
  irc_listen: {
    kind: "string",
    default: "",
    doc: "HOST:PORT of an extra port where every connection speaks IRC, e.g. 0.0.0.0:6667 (empty: off; IRC also works on the main port)",
    check: hostPortOrEmpty,
    reload: "restart",
  },
  registration: {
    kind: "string",
    default: "open",
    doc: "open (anyone may register their nick) or closed (accounts are made by operators)",
    check: v.picklist(["open", "closed"], "must be open or closed"),
  },
  password_min_length: {
    kind: "int",
    default: 8,
    doc: "shortest password accepted by register and passwd, in characters",
    check: v.pipe(v.number(), v.integer(), v.minValue(1, "must be 1 to 256"), v.maxValue(256, "must be 1 to 256")),
  },
  operators: {
    kind: "string",
    default: "",
    doc: "server operators: account names, comma-separated (e.g. alice,bob); operators of every room, may kill",
    check: accountList,
  },
  data_dir: {
    kind: "string",
    default: "tcpchat-data",
    doc: "directory for the database that keeps rooms, messages, accounts and room state across restarts (empty or --memory: memory only)",
    reload: "restart",
  },
  cluster: {
    kind: "string",
    default: "",
    doc: "redis:// or rediss:// URL of the Redis shared by the nodes of a cluster (empty: a single node)",
    check: v.pipe(v.string(), v.regex(/^$|^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL, or empty")),
    reload: "restart",
  },
  node_lease: {
    kind: "duration",
    default: 15_000,
    doc: "in a cluster, how long a node that stops renewing its lease is still taken as alive",
    check: v.pipe(v.number(), v.integer(), v.minValue(300, "must be at least 300ms")),
    reload: "restart",
  },
};

/** The names of all settings, in table order. */
export const SETTING_NAMES = Object.keys(SETTING_SPECS) as (keyof Settings)[];

/** The built-in defaults. */
export function defaultSettings(): Settings {
  const out = {} as Record<string, unknown>;
  for (const name of SETTING_NAMES) out[name] = SETTING_SPECS[name].default;
  return out as unknown as Settings;
}

/** A setting value that could not be read; `detail` says what was expected and what was given. */
export class SettingError extends Error {
  /** Stable code for scripts. */
  readonly code = "bad_setting";
  constructor(readonly setting: string, readonly detail: string) {
    super(`${setting}: ${detail}`);
  }
}

/**
 * Reads one setting from a string (flag, env) or a typed value (config file),
 * applying its kind and checks. Every source goes through here. Throws
 * {@linkcode SettingError}.
 */
export function parseSetting<K extends keyof Settings>(name: K, raw: unknown): Settings[K] {
  const spec = SETTING_SPECS[name] as SettingSpec<unknown>;
  const value = parseKind(name, spec.kind, raw);
  if (spec.check) {
    const result = v.safeParse(spec.check, value);
    if (!result.success) throw new SettingError(name, `${result.issues[0].message}, got ${show(raw)}`);
  }
  return value as Settings[K];
}

function show(raw: unknown): string {
  return JSON.stringify(raw) ?? String(raw);
}

function parseKind(name: string, kind: SettingKind, raw: unknown): unknown {
  const fail = (expected: string) => new SettingError(name, `expected ${expected}, got ${show(raw)}`);
  switch (kind) {
    case "string":
      if (typeof raw !== "string") throw fail("a string");
      return raw;
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (raw === "true" || raw === "1" || raw === "yes") return true;
      if (raw === "false" || raw === "0" || raw === "no") return false;
      throw fail("true or false");
    case "int":
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n) || (kind === "int" && !Number.isInteger(n))) {
        throw fail(kind === "int" ? "a whole number" : "a number");
      }
      return n;
    }
    case "duration": {
      const ms = parseDuration(raw);
      if (ms === undefined) throw fail("a duration such as 250ms, 30s, 15m or a number of ms");
      return ms;
    }
    case "bytes": {
      const bytes = parseByteSize(raw);
      if (bytes === undefined) throw fail("a size such as 16384, 64KiB or 1MiB");
      return bytes;
    }
  }
}

const KIND_SCHEMAS: Record<SettingKind, v.GenericSchema> = {
  string: v.string(),
  int: v.pipe(v.number(), v.integer()),
  duration: v.pipe(v.number(), v.integer(), v.minValue(0)),
  bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  bool: v.boolean(),
  number: v.number(),
};

/**
 * The whole configuration as one valibot schema, built from the table: every
 * setting present with its kind's type and its check, nothing else.
 */
export const SETTINGS_SCHEMA: v.GenericSchema<Settings> = v.strictObject(
  Object.fromEntries(
    SETTING_NAMES.map((name) => {
      const spec = SETTING_SPECS[name] as SettingSpec<unknown>;
      const kind = KIND_SCHEMAS[spec.kind];
      return [name, spec.check ? v.pipe(kind, spec.check) : kind];
    }),
  ),
) as unknown as v.GenericSchema<Settings>;

/** Environment variable for a setting: `heartbeat_interval` → `TCPCHAT_HEARTBEAT_INTERVAL`. */
export function envName(setting: string): string {
  return `TCPCHAT_${setting.toUpperCase()}`;
}

/** `serve` flag name for a setting: `max_frame` → `max-frame`. */
export function flagName(setting: string): string {
  return setting.replaceAll("_", "-");
}
