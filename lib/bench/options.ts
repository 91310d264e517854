/**
 * What a `tcpchat bench` run is asked to do, shared by the scenarios and the
 * command line, with the defaults and the bounds that keep a run finite.
 *
 * @module
 */

/** The load shapes `tcpchat bench` knows. */
export const SCENARIOS = ["fanout", "latency", "idle"] as const;
/** One of {@linkcode SCENARIOS}. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** The dialects a fan-out subscriber can speak (publishers always speak JSON). */
export const SUB_DIALECTS = ["json", "irc"] as const;
/** One of {@linkcode SUB_DIALECTS}. */
export type SubDialect = (typeof SUB_DIALECTS)[number];

/** Everything a run needs; the command line fills it from flags over {@linkcode benchDefaults}. */
export interface BenchOptions {
  scenario: ScenarioName;
  hostname: string;
  port: number;
  /** `ws`: connect over WebSocket to the server's `http_listen` address. */
  transport: "tcp" | "ws";
  /** Rooms; fanout/latency: each with its own publishers and subscribers; idle: connections spread over them. */
  rooms: number;
  /** Publishers per room. */
  pubs: number;
  /** Subscribers per room. */
  subs: number;
  /** Idle: connections. */
  conns: number;
  /** Messages per second per publisher; 0: as fast as the window allows. */
  ratePerPub: number;
  /** Messages in flight per room: sent minus received by the room's slowest subscriber. */
  window: number;
  /** Most messages in one publisher write. */
  batch: number;
  /** Bytes of message text (the stamp included). */
  textBytes: number;
  warmupMs: number;
  /** Measure time (idle: how long the connections stay silent before memory is read). */
  durationMs: number;
  setupTimeoutMs: number;
  /** After publishing stops, how long to wait for every subscriber to have every message. */
  drainMs: number;
  /** Connection set-ups in progress at once. */
  connectConcurrency: number;
  nickPrefix: string;
  roomPrefix: string;
  /** Server process whose CPU and memory are read from /proc, if any. */
  serverPid: number | undefined;
  /** Record latency on every subscriber (latency scenario) rather than the first and last of each room. */
  latencyFromAll: boolean;
  /** Connect over TLS: trusting `ca` (PEM text), or `insecure`; undefined for plain TCP. */
  tls?: { ca?: string; insecure?: boolean };
  /** `--ca FILE`, read into `tls.ca` by the command before the run. */
  caFile?: string;
  /** What the subscribers speak: JSON, or IRC (to compare the cost of fan-out to IRC members). */
  subDialect: SubDialect;
  /** Logins per second alongside the load (see `login_load.ts`); 0 for none. */
  loginRate: number;
  /** Accounts registered before the run for the logins. */
  loginAccounts: number;
  /** Logins in flight at most. */
  loginConcurrency: number;
  /** Account nick prefix (default `nickPrefix`): runs that share one reuse the accounts. */
  loginPrefix?: string;
  /**
   * Where the subscribers connect, round-robin within each room (the nodes
   * of a cluster); undefined: the publishers' address.
   */
  subAddresses?: { hostname: string; port: number }[];
}

/** How a run reports while it runs, and how it is cut short. */
export interface RunHooks {
  /** Aborting ends the current phase at once; the run still reports what it measured. */
  signal?: AbortSignal;
  /** Receives one progress line per second. */
  progress?: (line: string) => void;
}

/** Upper bounds on what one run may open and how long it may last. */
export const BENCH_LIMITS = {
  connections: 50_000,
  textBytes: 65_536,
  durationMs: 3_600_000,
  warmupMs: 600_000,
  batch: 4096,
  window: 1_000_000,
} as const;

/** A short random tag so that repeated or concurrent runs use their own nicks and rooms. */
export function runTag(): string {
  return Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, "0");
}

/** The defaults for `scenario` (a fresh random tag in nick and room names). */
export function benchDefaults(scenario: ScenarioName): BenchOptions {
  const tag = runTag();
  const latency = scenario === "latency";
  return {
    scenario,
    hostname: "127.0.0.1",
    port: 7777,
    transport: "tcp",
    rooms: scenario === "idle" ? 10 : 1,
    pubs: 1,
    subs: 100,
    conns: 1000,
    ratePerPub: latency ? 1000 : 0,
    window: 1000,
    batch: 64,
    textBytes: 100,
    warmupMs: 1000,
    durationMs: scenario === "idle" ? 2000 : 5000,
    setupTimeoutMs: 30_000,
    drainMs: 3000,
    connectConcurrency: 32,
    nickPrefix: `b${tag}`,
    roomPrefix: `bench-${tag}-`,
    serverPid: undefined,
    latencyFromAll: latency,
    subDialect: "json",
    loginRate: 0,
    loginAccounts: 100,
    loginConcurrency: 4,
  };
}

/**
 * `prefix` and `index`, zero-padded to the width of `count - 1`, so every name
 * of a run has the same length (the latency stamp is then at one offset).
 *
 * @example
 * ```ts
 * numbered("bench-", 7, 100); // "bench-07"
 * ```
 */
export function numbered(prefix: string, index: number, count: number): string {
  return prefix + String(index).padStart(String(Math.max(0, count - 1)).length, "0");
}
