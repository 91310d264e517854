/**
 * `tcpchat bench --ws`: the scenarios over WebSocket against a real server
 * (under Bun), with totals that must agree exactly, as over TCP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChatServerProcess, startChatServer } from "../support/chat_server.ts";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";

async function tcpchat(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([binPath("bun"), "main.ts", ...args], { cwd: REPO_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), 15_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code: await proc.exited, stdout, stderr };
}

describe("tcpchat bench --ws", () => {
  let server: ChatServerProcess;
  let web: number;
  beforeAll(async () => {
    server = await startChatServer("bun", ["--rate-per-s", "0", "--default-room", "", "--http-listen", "127.0.0.1:0"]);
    web = Number(new URL(server.lines().find((l) => l.startsWith("web "))!.slice(4)).port);
  });
  afterAll(() => server.stop());

  test("fanout over WebSocket: every message sent reached every subscriber", async () => {
    const run = await tcpchat([
      "bench", `127.0.0.1:${web}`, "--ws", "--subs", "5", "--warmup", "200ms", "--duration", "1", "--json", "-q",
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.target).toBe(`ws://127.0.0.1:${web}/ws`);
    expect(result.totals.drained).toBe(true);
    expect(result.totals.sent).toBeGreaterThan(0);
    expect(result.totals.deliveries).toBe(result.totals.sent * 5);
    expect(result.problems.error_frames + result.problems.subs_closed + result.problems.pubs_closed).toBe(0);
  }, 20_000);

  test("idle over WebSocket: the connections stay open through the idle phase", async () => {
    const run = await tcpchat(["bench", `127.0.0.1:${web}`, "--ws", "-s", "idle", "--conns", "50", "--duration", "500ms", "--json", "-q"]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.setup.connections).toBe(50);
  }, 20_000);

  test("a WebSocket address that does not answer fails the set-up with exit code 1", async () => {
    const run = await tcpchat(["bench", `127.0.0.1:${server.port}`, "--ws", "--subs", "1", "--duration", "1", "-q"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("set-up failed");
  }, 20_000);
});
