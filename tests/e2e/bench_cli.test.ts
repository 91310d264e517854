/**
 * `tcpchat bench` against a real server (under Bun), as a user runs it: short
 * runs whose figures must agree with what the server itself counted (the
 * room's final seq), the `--json` shape scripts rely on, and exit codes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, startChatServer } from "../support/chat_server.ts";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";

async function tcpchat(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([binPath("bun"), "main.ts", ...args], {
    cwd: REPO_ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill(), 15_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code: await proc.exited, stdout, stderr };
}

const LATENCY_KEYS = ["max_us", "mean_us", "p50_us", "p999_us", "p99_us", "samples"];
const PROBLEM_KEYS = ["bye_frames", "error_frames", "first_problem", "pubs_closed", "subs_closed"];

describe("tcpchat bench", () => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer("bun", ["--rate-per-s", "0", "--default-room", ""]);
  });
  afterAll(() => server.stop());

  /** The server's own view of a room, from a `rooms` request. */
  async function roomSeq(name: string): Promise<number | undefined> {
    const client = await TestClient.register(server.port, `check${Math.random().toString(36).slice(2, 8)}`, {
      defaultRoom: null,
    });
    try {
      const answer = await client.request({ type: "rooms" });
      return answer.rooms.find((room: { name: string }) => room.name === name)?.seq;
    } finally {
      client.socket.destroy();
    }
  }

  test("fanout: every message sent reached every subscriber, and the server's seq agrees", async () => {
    const run = await tcpchat([
      "bench", `127.0.0.1:${server.port}`, "--subs", "5", "--warmup", "200ms", "--duration", "1",
      "--room-prefix", "e2e-fanout-", "--pid", String(server.pid), "--json",
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.scenario).toBe("fanout");
    expect(result.totals.drained).toBe(true);
    expect(result.totals.sent).toBeGreaterThan(0);
    expect(result.totals.deliveries).toBe(result.totals.sent * 5);
    expect(result.totals.expected_deliveries).toBe(result.totals.sent * 5);
    expect(result.totals.acks).toBe(result.totals.sent);
    expect(await roomSeq("e2e-fanout-0")).toBe(result.totals.sent);
    // The measured rate covers part of the run: at most everything, divided by the measured time.
    expect(result.deliveries_per_s).toBeGreaterThan(0);
    expect(result.deliveries_per_s * result.seconds).toBeLessThanOrEqual(result.totals.deliveries);
    expect(result.latency.samples).toBeGreaterThan(0);
    expect(result.latency.p50_us).toBeLessThanOrEqual(result.latency.p99_us);
    expect(result.latency.p99_us).toBeLessThanOrEqual(result.latency.max_us);
    expect(result.problems).toEqual({ error_frames: 0, bye_frames: 0, subs_closed: 0, pubs_closed: 0, first_problem: null });
    expect(result.server_cpu_cores).toBeGreaterThan(0);
    expect(result.server.rss_mb).toBeGreaterThan(1);
    // Progress and the summary go to stderr when --json owns stdout.
    expect(run.stderr).toContain("deliveries/s");
    expect(run.stderr).toMatch(/totals +\d/);
  }, 10_000);

  test("fanout to IRC subscribers: every message reached every IRC subscriber as a PRIVMSG", async () => {
    const run = await tcpchat([
      "bench", `127.0.0.1:${server.port}`, "--subs", "4", "--sub-dialect", "irc", "--warmup", "200ms", "--duration", "1",
      "--room-prefix", "e2e-irc-", "--json",
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.config.sub_dialect).toBe("irc");
    expect(result.totals.drained).toBe(true);
    expect(result.totals.sent).toBeGreaterThan(0);
    expect(result.totals.deliveries).toBe(result.totals.sent * 4);
    expect(await roomSeq("e2e-irc-0")).toBe(result.totals.sent);
    expect(result.latency.samples).toBeGreaterThan(0);
    expect(result.problems).toEqual({ error_frames: 0, bye_frames: 0, subs_closed: 0, pubs_closed: 0, first_problem: null });
    expect(run.stderr).toContain("4 IRC subscribers");
  }, 10_000);

  test("latency: --json is one object with every key present, the rate held", async () => {
    const run = await tcpchat([
      "bench", `127.0.0.1:${server.port}`, "-s", "latency", "--subs", "3", "--rate", "200", "--warmup", "0",
      "--duration", "1", "--json", "-q",
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const result = JSON.parse(run.stdout);
    expect(Object.keys(result).sort()).toEqual([
      "acks_per_s", "bench_cpu_cores", "config", "deliveries_per_s", "interrupted", "latency", "loop_lag_ms", "problems",
      "pub_msgs_per_s", "recv_mb_per_s", "scenario", "seconds", "server", "server_cpu_cores", "setup", "target",
      "totals", "warnings",
    ]);
    expect(Object.keys(result.latency).sort()).toEqual(LATENCY_KEYS);
    expect(Object.keys(result.problems).sort()).toEqual(PROBLEM_KEYS);
    expect(result).toMatchObject({ scenario: "latency", server_cpu_cores: null, server: { pid: null, rss_mb: null } });
    expect(result.config).toMatchObject({ subs_per_room: 3, rate_per_pub: 200, latency_subs: 3 });
    expect(result.pub_msgs_per_s).toBeGreaterThan(150);
    expect(result.pub_msgs_per_s).toBeLessThan(250);
    expect(result.latency.samples).toBeGreaterThan(300);
    expect(result.totals.deliveries).toBe(result.totals.sent * 3);
  }, 10_000);

  test("idle: connections set up and held; the server's memory is read through --pid", async () => {
    const run = await tcpchat([
      "bench", `127.0.0.1:${server.port}`, "-s", "idle", "--conns", "40", "--rooms", "4", "--duration", "500ms",
      "--pid", String(server.pid), "--json", "-q",
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ scenario: "idle", config: { conns: 40, rooms: 4 }, setup: { connections: 40 } });
    expect(Object.keys(result.setup.handshake).sort()).toEqual(LATENCY_KEYS);
    expect(result.setup.handshake.samples).toBe(40);
    expect(result.problems.subs_closed).toBe(0);
    expect(result.server.rss_after_mb).toBeGreaterThan(1);
    expect(typeof result.server.kb_per_conn).toBe("number");
  }, 10_000);

  test("bad flags exit 2 with the usage; an unreachable server exits 1", async () => {
    for (const args of [["--subs", "0"], ["--bogus"], ["-s", "idle", "--rate", "5"], ["--duration", "later"]]) {
      const run = await tcpchat(["bench", ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("Usage: tcpchat bench");
    }
    const refused = await tcpchat(["bench", "127.0.0.1:1", "--subs", "2", "-q"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("set-up failed");
    expect((await tcpchat(["--help"])).stdout).toMatch(/^ {2}bench +load-test/m);
  }, 10_000);
});
