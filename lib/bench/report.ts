/**
 * How `tcpchat bench` shows numbers: one progress line per second (stderr),
 * a readable summary at the end, and the `--json` object with a stable shape
 * (missing figures are `null`, never absent).
 *
 * @module
 */

import type { FanoutResult } from "./fanout.ts";
import type { LatencyHistogram, LatencySummary } from "./histogram.ts";
import type { IdleResult } from "./idle.ts";
import type { Rates } from "./stats.ts";

/** 10234567 → `10.2M`, 4321 → `4.3k`. */
export function compact(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

/** 10234567.4 → `10,234,567`. */
function whole(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Microseconds as milliseconds, `-` when unknown. */
function ms(micros: number | undefined): string {
  return micros === undefined ? "-" : `${(micros / 1000).toFixed(micros < 10_000 ? 2 : 1)} ms`;
}

function coresText(cores: number | undefined): string {
  return cores === undefined ? "-" : cores.toFixed(2);
}

function seconds(value: number): string {
  return `[${value.toFixed(1).padStart(6)}s]`;
}

/** Extra figures for a fan-out progress line. */
export interface ProgressExtras {
  inFlight: number;
  /** Latencies so far in the measure phase (none during warm-up). */
  latency: LatencyHistogram | undefined;
  errors: number;
  closed: number;
}

/** One fan-out progress line: the last second's rates and the state of the run. */
export function formatProgress(elapsedS: number, phase: string, rates: Rates, extras: ProgressExtras): string {
  const parts = [
    `${seconds(elapsedS)} ${phase.padEnd(7)}`,
    `${compact(rates.deliveries_per_s)} deliveries/s`,
    `${compact(rates.pub_msgs_per_s)} msgs/s`,
    `in flight ${extras.inFlight}`,
  ];
  if (extras.latency !== undefined && extras.latency.count > 0) {
    parts.push(`p50 ${ms(extras.latency.percentile(50))} p99 ${ms(extras.latency.percentile(99))}`);
  }
  parts.push(`cpu bench ${coresText(rates.bench_cpu_cores)} server ${coresText(rates.server_cpu_cores)}`);
  if (extras.errors + extras.closed > 0) parts.push(`errors ${extras.errors} closed ${extras.closed}`);
  return parts.join("  ");
}

/** One progress line while connections are being opened. */
export function formatSetupProgress(elapsedS: number, opened: number, total: number): string {
  return `${seconds(elapsedS)} set-up  ${opened}/${total} connections`;
}

/** One progress line while idle connections are held. */
export function formatHoldProgress(elapsedS: number, open: number, closed: number, rssKiB: number | undefined): string {
  const rss = rssKiB === undefined ? "" : `  server RSS ${(rssKiB / 1024).toFixed(1)} MB`;
  return `${seconds(elapsedS)} hold    ${open} open, ${closed} closed by the server${rss}`;
}

function latencyLine(latency: LatencySummary): string {
  if (latency.samples === 0) return "latency     - (no samples)";
  return `latency     p50 ${ms(latency.p50_us)}  p99 ${ms(latency.p99_us)}  p99.9 ${ms(latency.p999_us)}  ` +
    `max ${ms(latency.max_us)}  (${whole(latency.samples)} samples)`;
}

/** The end-of-run summary of a fan-out or latency run. */
export function formatFanoutReport(result: FanoutResult): string {
  const c = result.config;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const pace = c.rate_per_pub > 0 ? `${whole(c.rate_per_pub)} msgs/s per publisher` : `window ${c.window}`;
  const lines = [
    `tcpchat bench ${result.scenario} against ${result.target}: ${plural(c.rooms, "room")} x ` +
    `(${plural(c.pubs_per_room, "publisher")}, ${plural(c.subs_per_room, c.sub_dialect === "irc" ? "IRC subscriber" : "subscriber")}), ` +
    `${c.size_bytes}-byte text, ${pace}`,
    `set-up      ${result.setup.connections} connections in ${result.setup.seconds.toFixed(2)} s`,
    `measured    ${result.seconds.toFixed(2)} s after ${c.warmup_s} s of warm-up${result.interrupted ? " (interrupted)" : ""}`,
    `deliveries  ${whole(result.deliveries_per_s)}/s  (published ${whole(result.pub_msgs_per_s)} msgs/s, ` +
    `received ${result.recv_mb_per_s.toFixed(1)} MB/s)`,
    `${latencyLine(result.latency)}  from ${plural(c.latency_subs, "subscriber")}`,
    `totals      ${whole(result.totals.sent)} sent, ${whole(result.totals.deliveries)} delivered of ` +
    `${whole(result.totals.expected_deliveries)} expected${result.totals.drained ? "" : " (not drained)"}`,
    `problems    ${result.problems.error_frames} error frames, ${result.problems.bye_frames} bye frames, ` +
    `${result.problems.subs_closed + result.problems.pubs_closed} connections closed by the server`,
    `cpu         bench ${coresText(result.bench_cpu_cores)} cores, server ${coresText(result.server_cpu_cores)} cores` +
    (result.server.rss_mb === undefined ? "" : `, server RSS ${result.server.rss_mb.toFixed(1)} MB`),
  ];
  const l = result.logins;
  if (l) {
    lines.push(
      `logins      ${l.logins_per_s.toFixed(1)}/s of ${l.rate_asked}/s asked over ${l.accounts} accounts: ${l.ok} ok, ` +
        `${l.rate_limited} rate_limited, ${l.unavailable} unavailable, ${l.failed} failed, ${l.skipped} skipped; ` +
        `login p50 ${ms(l.latency.p50_us)}, p99 ${ms(l.latency.p99_us)}`,
    );
  }
  return [...lines, ...result.warnings.map((w) => `warning: ${w}`)].join("\n");
}

/** The end-of-run summary of an idle run. */
export function formatIdleReport(result: IdleResult): string {
  const { setup, server } = result;
  const lines = [
    `tcpchat bench idle against ${result.target}: ${result.config.conns} connections in ${result.config.rooms} rooms, ` +
    `held ${result.config.hold_s} s${result.interrupted ? " (interrupted)" : ""}`,
    `set-up      ${setup.connections} connections in ${setup.seconds.toFixed(2)} s (${whole(setup.conns_per_s)}/s)`,
    `per conn    connect to room snapshot p50 ${ms(setup.handshake.p50_us)}  p99 ${ms(setup.handshake.p99_us)}  ` +
    `max ${ms(setup.handshake.max_us)}`,
    `closed      ${result.problems.subs_closed} by the server while idle`,
  ];
  if (server.rss_after_mb !== undefined) {
    lines.push(
      `server      RSS ${server.rss_before_mb?.toFixed(1)} MB before, ${server.rss_after_mb.toFixed(1)} MB after: ` +
        `${server.kb_per_conn?.toFixed(2)} KiB per connection; ${server.cpu_s?.toFixed(2)} s of CPU`,
    );
  }
  return [...lines, ...result.warnings.map((w) => `warning: ${w}`)].join("\n");
}

/** The `--json` text: every key present (`null` when unknown), fractions to 3 decimals. */
export function formatJson(result: FanoutResult | IdleResult): string {
  return JSON.stringify(result, (_key, value) => {
    if (value === undefined) return null;
    if (typeof value === "number" && !Number.isInteger(value)) return Math.round(value * 1000) / 1000;
    return value;
  });
}
