/**
 * The metrics and health endpoint against the real server: counts after a
 * scripted session match what the clients saw, the output passes
 * `promtool check metrics`, `/readyz` turns 503 when shutdown starts, and
 * SIGUSR2 drains clients slowly (lame duck) before exiting 0.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import * as net from "node:net";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `http://host:port` of the server's metrics endpoint, from its `metrics` stdout line. */
function metricsUrl(server: ChatServerProcess): string {
  const line = server.lines().find((l) => l.startsWith("metrics "));
  if (!line) throw new Error(`no metrics line: ${server.stdout()}`);
  return `http://${line.slice("metrics ".length)}`;
}

/** Samples by their printed name and labels, e.g. `tcpchat_frames_in_total{type="msg"}`. */
async function scrape(server: ChatServerProcess): Promise<{ text: string; get(key: string): number }> {
  const response = await fetch(`${metricsUrl(server)}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  const text = await response.text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return {
    text,
    get(key) {
      const value = samples.get(key);
      if (value === undefined) throw new Error(`no sample ${key} in:\n${text}`);
      return value;
    },
  };
}

/** Counts every JSON frame a client receives, by type, independently of what the test reads. */
function tally(client: TestClient): Map<string, number> {
  const counts = new Map<string, number>();
  let buffer = "";
  client.socket.on("data", (data: string) => {
    buffer += data;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith("{")) {
        const type = (JSON.parse(line) as Frame).type;
        counts.set(type, (counts.get(type) ?? 0) + 1);
      }
    }
  });
  return counts;
}

async function registered(port: number, nick: string): Promise<{ client: TestClient; counts: Map<string, number> }> {
  const client = await TestClient.connect(port);
  const counts = tally(client);
  client.send({ type: "hello", nick });
  await client.waitFor((f) => f.type === "join" && f.nick === nick);
  return { client, counts };
}

function promtoolCheck(text: string): void {
  const which = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" });
  if (which.status !== 0) {
    console.warn("NOTE: promtool is not on PATH; skipping `promtool check metrics` (apt-get install prometheus)");
    return;
  }
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  expect(`${result.status} ${result.stdout}${result.stderr}`.trim()).toBe("0");
}

describe.each(SERVER_RUNTIMES)("metrics (%s)", (runtime) => {
  test("after a scripted session the counts match what the clients saw, and promtool accepts the output", async () => {
    await using server = await startChatServer(runtime, ["--metrics", "127.0.0.1:0", "--rate-per-s", "1", "--burst", "3"]);
    const alice = await registered(server.port, "alice");
    const bob = await registered(server.port, "bob");
    const dave = await registered(server.port, "dave");
    // alice: two messages, and one to a room she is not in.
    for (const text of ["one", "two"]) await alice.client.request({ type: "msg", room: "lobby", text });
    expect(await alice.client.request({ type: "msg", room: "elsewhere", text: "?" })).toMatchObject({ code: "not_in_room" });
    // bob: one dm.
    await bob.client.request({ type: "dm", to: "alice", text: "psst" });
    // dave: six messages at once against a bucket of three.
    for (let i = 0; i < 6; i++) dave.client.send({ type: "msg", room: "lobby", text: `d${i}`, id: `d${i}` });
    const answers: Frame[] = [];
    for (let i = 0; i < 6; i++) answers.push(await dave.client.waitFor((f) => f.id === `d${i}`));
    const limited = answers.filter((a) => a.code === "rate_limited").length;
    expect(limited).toBeGreaterThanOrEqual(2);
    // carol speaks text and registers last; idle says nothing.
    const carol = await TestClient.connect(server.port);
    carol.send("carol\n");
    await carol.waitForLine("* Now in #lobby");
    const idle = await TestClient.connect(server.port);
    for (const c of [alice, bob, dave]) await c.client.waitFor((f) => f.type === "join" && f.nick === "carol");
    await idle.waitForLine("Welcome"); // The greeting, after 250 ms of silence.
    await sleep(50);

    const m = await scrape(server);
    expect(m.get('tcpchat_connections{dialect="json"}')).toBe(3);
    expect(m.get('tcpchat_connections{dialect="text"}')).toBe(1);
    expect(m.get('tcpchat_connections{dialect="unknown"}')).toBe(1);
    expect(m.get("tcpchat_connections_accepted_total")).toBe(5);
    expect(m.get("tcpchat_users_registered")).toBe(4);
    expect(m.get("tcpchat_rooms")).toBe(1);
    expect(m.get('tcpchat_frames_in_total{type="hello"}')).toBe(4);
    expect(m.get('tcpchat_frames_in_total{type="msg"}')).toBe(2 + 1 + 6);
    expect(m.get('tcpchat_frames_in_total{type="dm"}')).toBe(1);
    // Frames out: what the JSON clients received, plus carol's welcome, room and own join.
    const carolFrames: Record<string, number> = { welcome: 1, room: 1, join: 1 };
    for (const type of ["welcome", "room", "join", "msg", "dm", "error", "leave", "presence", "bye", "ping"]) {
      const received = [alice, bob, dave].reduce((sum, c) => sum + (c.counts.get(type) ?? 0), 0);
      expect(`${type} ${m.get(`tcpchat_frames_out_total{type="${type}"}`)}`).toBe(`${type} ${received + (carolFrames[type] ?? 0)}`);
    }
    expect(m.get("tcpchat_deliveries_total")).toBe(
      m.get('tcpchat_frames_out_total{type="msg"}') + m.get('tcpchat_frames_out_total{type="dm"}'),
    );
    expect(m.get('tcpchat_errors_total{code="not_in_room"}')).toBe(1);
    expect(m.get('tcpchat_errors_total{code="rate_limited"}')).toBe(limited);
    expect(m.get("tcpchat_rate_limited_total")).toBe(limited);
    const sockets = [alice.client, bob.client, dave.client, carol, idle].map((c) => c.socket);
    expect(m.get("tcpchat_bytes_in_total")).toBe(sockets.reduce((sum, s) => sum + s.bytesWritten, 0));
    expect(m.get("tcpchat_bytes_out_total")).toBe(sockets.reduce((sum, s) => sum + s.bytesRead, 0));
    expect(m.get("tcpchat_outbound_queue_bytes")).toBe(0);
    // One fan-out observation per message broadcast.
    const broadcasts = 2 + 6 - limited;
    expect(m.get("tcpchat_fanout_latency_seconds_count")).toBe(broadcasts);
    expect(m.get('tcpchat_fanout_latency_seconds_bucket{le="+Inf"}')).toBe(broadcasts);
    expect(m.get('tcpchat_fanout_latency_seconds_bucket{le="1"}')).toBe(broadcasts);
    expect(m.get("tcpchat_fanout_latency_seconds_sum")).toBeGreaterThan(0);
    expect(m.get("tcpchat_slow_consumers_total")).toBe(0);
    expect(m.get("tcpchat_heartbeat_timeouts_total")).toBe(0);
    expect(m.get('tcpchat_disconnects_total{reason="quit"}')).toBe(0);
    expect(m.get("tcpchat_ready")).toBe(1);
    expect(m.text).toContain(`tcpchat_build_info{version="`);
    promtoolCheck(m.text);

    alice.client.send({ type: "quit" });
    await alice.client.waitClosed();
    await bob.client.waitFor((f) => f.type === "presence" && f.nick === "alice");
    await sleep(50);
    const after = await scrape(server);
    expect(after.get('tcpchat_disconnects_total{reason="quit"}')).toBe(1);
    expect(after.get("tcpchat_users_registered")).toBe(3);
    expect(after.get('tcpchat_connections{dialect="json"}')).toBe(2);
    for (const c of [bob.client, dave.client, carol, idle]) c.destroy();
  });

  test("/healthz is 200 while the process runs; /readyz 200 until shutdown starts, then 503", async () => {
    await using server = await startChatServer(runtime, ["--metrics", "127.0.0.1:0", "--shutdown-grace", "1s"]);
    const url = metricsUrl(server);
    const status = async (path: string) => (await fetch(url + path)).status;
    expect([await status("/healthz"), await status("/readyz"), await status("/nope")]).toEqual([200, 200, 404]);
    // A client that ignores bye and the server's FIN keeps the server draining (until shutdown_grace).
    const stubborn = net.connect({ port: server.port, host: "127.0.0.1", allowHalfOpen: true });
    let received = "";
    stubborn.setEncoding("utf8").on("data", (d: string) => (received += d)).on("error", () => {});
    stubborn.write('{"type":"hello","nick":"stubborn"}\n');
    while (!received.includes('"welcome"')) await sleep(10);
    server.signal("SIGTERM");
    while (!received.includes('"bye"')) await sleep(10);
    expect(await status("/readyz")).toBe(503);
    expect(await status("/healthz")).toBe(200);
    expect((await scrape(server)).get("tcpchat_ready")).toBe(0);
    expect(await server.exited).toBe(0);
    stubborn.destroy();
  });

  test("SIGUSR2 lame duck: stops accepting, byes spread over shutdown_grace, then exits 0", async () => {
    await using server = await startChatServer(runtime, ["--metrics", "127.0.0.1:0", "--shutdown-grace", "900ms"]);
    const clients = [];
    for (const nick of ["ld1", "ld2", "ld3", "ld4"]) clients.push(await TestClient.register(server.port, nick));
    const signalledAt = Date.now();
    server.signal("SIGUSR2");
    const byeAt: number[] = [];
    const heard: Frame[][] = clients.map(() => []);
    await Promise.all(clients.map(async (c, i) => {
      await c.waitFor((f) => heard[i].push(f) > 0 && f.type === "bye", 5000);
      byeAt[i] = Date.now() - signalledAt;
    }));
    // The listener is closed, and not ready, from the start.
    await expect(TestClient.connect(server.port)).rejects.toThrow();
    for (const c of clients) expect(c.lines).toEqual([]);
    expect(heard.map((frames) => frames.at(-1))).toEqual(clients.map(() => ({ type: "bye", reason: "shutdown" })));
    const sorted = [...byeAt].sort((a, b) => a - b);
    // Four clients over 900 ms: about 225 ms apart, the last near 675 ms.
    expect(sorted[3] - sorted[0]).toBeGreaterThanOrEqual(450);
    expect(sorted[3]).toBeLessThan(2500);
    // Those still there heard the earlier ones leave for shutdown.
    const last = heard[byeAt.indexOf(sorted[3])];
    expect(last.filter((f) => f.type === "leave" && f.reason === "shutdown")).toHaveLength(3);
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toContain("lame duck");
    for (const c of clients) c.destroy();
  });
});

test("a connection refused for max_connections gets a traced server_full (raw socket)", async () => {
  await using server = await startChatServer(SERVER_RUNTIMES[0], ["--max-connections", "1"]);
  const first = await TestClient.connect(server.port);
  const line = await new Promise<string>((resolve, reject) => {
    const socket = net.connect({ port: server.port, host: "127.0.0.1" });
    let data = "";
    socket.setEncoding("utf8").on("data", (d: string) => (data += d)).on("close", () => resolve(data)).on("error", reject);
  });
  const frame = JSON.parse(line);
  expect(frame).toMatchObject({ type: "error", code: "server_full" });
  await server.waitForLog(`"trace":"${frame.trace}"`);
  first.destroy();
});
