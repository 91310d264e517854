/**
 * The server's counters in the Prometheus text format (version 0.0.4). All
 * label text is made here, when `/metrics` is scraped; the counters themselves
 * are plain numbers (see `server_stats.ts`). Gauges that describe connections
 * (by dialect, queued bytes) are summed over the open connections at scrape
 * time, so they cost nothing between scrapes.
 *
 * @module
 */
import type { HubCounts } from "../hub/hub.ts";
import { logFileStats } from "../ops/log.ts";
import type { DisconnectReason } from "./connection.ts";
import { FANOUT_BUCKETS_S, type ServerStats } from "./server_stats.ts";

/** What the metrics are read from; {@linkcode ChatServer} is one. */
export interface MetricsSource {
  readonly stats: ServerStats;
  readonly hub: { counts(): HubCounts };
  readonly openConnections: Iterable<{ readonly dialect: string; readonly pendingBytes: number }>;
  /** Listening and not shutting down. */
  readonly ready: boolean;
  readonly version: string;
  readonly runtime: { readonly name: string; readonly version: string; memoryRss(): number };
  /** More metric families (the cluster's), already in the exposition format. */
  readonly moreMetrics?: () => string;
}

/** The Content-Type of {@linkcode renderMetrics}'s output. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Disconnect reasons always listed (at 0 until they happen), so their series exist from the start. */
const DISCONNECT_REASONS = [
  "quit",
  "disconnect",
  "timeout",
  "register_timeout",
  "slow_consumer",
  "flood",
  "shutdown",
  "server_full",
  "reset",
  "error",
  "killed",
  "tls_handshake",
] satisfies DisconnectReason[];

/** Audit actions about accounts rather than rooms (see `AccountDesk`). */
function isAccountAction(action: string): boolean {
  return /^(register|login|passwd|drop|account)/.test(action);
}

const startedAtSeconds = Date.now() / 1000;

type Sample = [labels: Record<string, string> | null, value: number];

/** Builds the exposition text one metric family at a time. */
class Exposition {
  #out: string[] = [];

  family(name: string, type: "counter" | "gauge", help: string, samples: Sample[] | number): this {
    this.#out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of typeof samples === "number" ? [[null, samples] as Sample] : samples) {
      this.#out.push(`${name}${formatLabels(labels)} ${formatNumber(value)}`);
    }
    return this;
  }

  histogram(name: string, help: string, bounds: readonly number[], buckets: number[], sum: number, count: number) {
    this.#out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let cumulative = 0;
    bounds.forEach((bound, i) => {
      cumulative += buckets[i];
      this.#out.push(`${name}_bucket{le="${bound}"} ${cumulative}`);
    });
    this.#out.push(`${name}_bucket{le="+Inf"} ${count}`, `${name}_sum ${formatNumber(sum)}`, `${name}_count ${count}`);
    return this;
  }

  text(): string {
    return this.#out.join("\n") + "\n";
  }
}

function formatLabels(labels: Record<string, string> | null): string {
  if (labels === null) return "";
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`
  );
  return `{${parts.join(",")}}`;
}

function formatNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
}

function labelled(label: string, counts: Iterable<[string, number]>): Sample[] {
  return [...counts].map(([value, n]) => [{ [label]: value }, n]);
}

/** Renders every metric as Prometheus text. */
export function renderMetrics(source: MetricsSource): string {
  const { stats } = source;
  const byDialect = new Map<string, number>([["json", 0], ["text", 0], ["unknown", 0]]);
  let queuedBytes = 0;
  for (const c of source.openConnections) {
    byDialect.set(c.dialect, (byDialect.get(c.dialect) ?? 0) + 1);
    queuedBytes += c.pendingBytes;
  }
  const counts = source.hub.counts();
  const disconnects = new Map<string, number>(DISCONNECT_REASONS.map((reason) => [reason, 0]));
  for (const [reason, n] of stats.disconnects) disconnects.set(reason, n);
  const log = logFileStats();
  const fanout = stats.fanout;
  return new Exposition()
    .family("tcpchat_build_info", "gauge", "Version and runtime of this server (always 1).", [[{
      version: source.version,
      runtime: source.runtime.name,
      runtime_version: source.runtime.version,
    }, 1]])
    .family("tcpchat_ready", "gauge", "1 while listening and not shutting down.", source.ready ? 1 : 0)
    .family("tcpchat_connections", "gauge", "Open connections by dialect (unknown: no line yet).", labelled("dialect", byDialect))
    .family("tcpchat_connections_accepted_total", "counter", "Connections accepted (refusals not included).", stats.connectionsAccepted)
    .family("tcpchat_users_registered", "gauge", "Connections that completed hello.", counts.registered)
    .family("tcpchat_rooms", "gauge", "Rooms kept, including empty rooms kept for their history.", counts.rooms)
    .family("tcpchat_history_bytes", "gauge", "Bytes of room history held in memory, all rooms (bounded by history_memory).", counts.historyBytes)
    .family("tcpchat_history_evicted_total", "counter", "Messages dropped from memory to stay within history_memory.", counts.historyEvicted)
    .family("tcpchat_frames_in_total", "counter", "Client frames handled, by type (text commands count as their frame).", labelled("type", Object.entries(stats.framesIn)))
    .family("tcpchat_frames_out_total", "counter", "Frames queued to clients, by type, one per recipient.", labelled("type", Object.entries(stats.framesOut)))
    .family("tcpchat_deliveries_total", "counter", "Chat messages (msg and dm frames) queued to a recipient.", stats.framesOut.msg + stats.framesOut.dm)
    .family("tcpchat_bytes_in_total", "counter", "Bytes read from clients.", stats.bytesIn)
    .family("tcpchat_bytes_out_total", "counter", "Bytes handed to client sockets.", stats.bytesOut)
    .family("tcpchat_errors_total", "counter", "Error frames sent, by code.", labelled("code", stats.errors))
    .family("tcpchat_rate_limited_total", "counter", "Frames dropped by the rate limit.", stats.errors.get("rate_limited") ?? 0)
    .family("tcpchat_disconnects_total", "counter", "Connections ended, by reason.", labelled("reason", disconnects))
    .family("tcpchat_moderation_actions_total", "counter", "Moderation actions by operators, by action.", labelled("action", [...stats.audit].filter(([a]) => !isAccountAction(a))))
    .family("tcpchat_account_events_total", "counter", "Account events (register, login, login_failed, ...), by event.", labelled("event", [...stats.audit].filter(([a]) => isAccountAction(a))))
    .family("tcpchat_slow_consumers_total", "counter", "Connections closed for reading too slowly.", stats.slowConsumers)
    .family("tcpchat_heartbeat_timeouts_total", "counter", "JSON connections closed for missing heartbeats.", stats.heartbeatTimeouts)
    .family("tcpchat_outbound_queue_bytes", "gauge", "Bytes queued or in flight to clients, all connections.", queuedBytes)
    .histogram(
      "tcpchat_fanout_latency_seconds",
      "From the start of a msg broadcast to the end of the write pass handing it to every member's socket.",
      FANOUT_BUCKETS_S,
      fanout.buckets,
      fanout.sumSeconds,
      fanout.count,
    )
    .family("tcpchat_log_file_errors_total", "counter", "Failed appends to the log file.", log.errors)
    .family("tcpchat_log_lines_dropped_total", "counter", "Log lines lost to log file failures.", log.droppedLines)
    .family("tcpchat_memory_releases_total", "counter", "Full garbage collections run while idle to give memory back.", stats.memoryReleases)
    .family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", source.runtime.memoryRss())
    .family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.", startedAtSeconds)
    .text() + (source.moreMetrics?.() ?? "");
}
