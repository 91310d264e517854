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
  default_room: string;
  max_rooms: number;
  shutdown_grace: number;
  log_level: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
  log_format: "auto" | "pretty" | "json";
  log_file: string;
  metrics: string;
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
    doc: "whether loopback addresses are exempt from max_per_ip",
  },
  rate_per_s: {
    kind: "number",
    default: 5,
    doc: "msg/dm/join/status frames per second per connection (0 turns rate limiting off)",
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
  data_dir: {
    kind: "string",
    default: "tcpchat-data",
    doc: "directory for the database that keeps rooms and messages across restarts (empty or --memory: memory only)",
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
