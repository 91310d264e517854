/**
 * Logins per second against chat latency (issue 11): one fresh server (Bun
 * by default, rate limits off for the chat), then the latency scenario of
 * scenario B's shape (1 publisher at 1000 msgs/s, 100 subscribers) again and
 * again, each run with a login load of a different rate (`tcpchat bench
 * --logins`), the rates interleaved in rounds so that the machine's drift hits
 * them alike. For each rate: the median p99 over the rounds, its ratio to the
 * median p99 at 0 logins/s, and the logins achieved and refused. The highest
 * rate whose ratio stays within 1.2 is the answer.
 *
 * ```sh
 * npx bun scripts/bench_logins.ts --rounds 3 --rates 0,5,10,20,40 --duration 5
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runFanout } from "../lib/bench/fanout.ts";
import { benchDefaults, runTag } from "../lib/bench/options.ts";
import { getRuntime } from "../lib/runtime/mod.ts";
import { startChatServer } from "../tests/support/chat_server.ts";
import type { RuntimeName } from "../tests/support/runtimes.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    rates: { type: "string", default: "0,5,10,20,40" },
    duration: { type: "string", default: "5" },
    subs: { type: "string", default: "100" },
    accounts: { type: "string", default: "100" },
    runtime: { type: "string", default: "bun" },
  },
});
const rates = values.rates.split(",").map(Number);
if (!rates.includes(0)) rates.unshift(0);
const rounds = Number(values.rounds);

const server = await startChatServer(values.runtime as RuntimeName, ["--rate-per-s", "0", "--default-room", ""]);
const runtime = getRuntime();
const loginPrefix = `l${runTag()}`;
const p99s = new Map<number, number[]>(rates.map((r) => [r, []]));
const achieved = new Map<number, { ok: number; rateLimited: number; unavailable: number; failed: number; skipped: number; seconds: number; loginP99: number[] }>(
  rates.map((r) => [r, { ok: 0, rateLimited: 0, unavailable: 0, failed: 0, skipped: 0, seconds: 0, loginP99: [] }]),
);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
try {
  for (let round = 0; round < rounds; round++) {
    // Each round starts at another rate, so none always runs first or last.
    const order = rates.map((_, i) => rates[(i + round) % rates.length]);
    for (const rate of order) {
      const options = {
        ...benchDefaults("latency"),
        port: server.port,
        subs: Number(values.subs),
        durationMs: Number(values.duration) * 1000,
        serverPid: server.pid,
        loginRate: rate,
        loginAccounts: Number(values.accounts),
        loginPrefix,
      };
      const result = await runFanout(runtime, options);
      const p99 = (result.latency.p99_us ?? NaN) / 1000;
      p99s.get(rate)!.push(p99);
      const a = achieved.get(rate)!;
      const l = result.logins;
      if (l) {
        a.ok += l.ok;
        a.rateLimited += l.rate_limited;
        a.unavailable += l.unavailable;
        a.failed += l.failed;
        a.skipped += l.skipped;
        a.seconds += result.seconds;
        if (l.latency.p99_us !== undefined) a.loginP99.push(l.latency.p99_us / 1000);
      }
      console.error(
        `round ${round + 1}, ${rate} logins/s: chat p99 ${p99.toFixed(2)} ms, server ${result.server_cpu_cores?.toFixed(2)} cores` +
          (l ? `, ${l.logins_per_s.toFixed(1)} logins/s (${l.rate_limited} rate_limited, ${l.unavailable} unavailable, ${l.skipped} skipped)` : "") +
          (result.warnings.length ? `; ${result.warnings.join("; ")}` : ""),
      );
    }
  }
} finally {
  await server.stop();
}

const base = median(p99s.get(0)!);
let best = 0;
console.log(`| logins/s asked | achieved | rate_limited | unavailable | skipped | login p99 ms | chat p99 ms (median of ${rounds}) | ratio to 0 |`);
console.log("|---|---|---|---|---|---|---|---|");
for (const rate of [...rates].sort((a, b) => a - b)) {
  const p99 = median(p99s.get(rate)!);
  const ratio = p99 / base;
  const a = achieved.get(rate)!;
  if (rate > 0 && ratio <= 1.2 && rate > best) best = rate;
  console.log(
    `| ${rate} | ${rate === 0 ? "-" : (a.ok / a.seconds).toFixed(1)} | ${a.rateLimited} | ${a.unavailable} | ${a.skipped} | ` +
      `${rate === 0 ? "-" : median(a.loginP99).toFixed(0)} | ${p99.toFixed(2)} (${p99s.get(rate)!.map((x) => x.toFixed(1)).join(", ")}) | ${ratio.toFixed(2)} |`,
  );
}
console.log(`\nhighest rate asked with chat p99 within 1.2x of no logins: ${best} logins/s`);
