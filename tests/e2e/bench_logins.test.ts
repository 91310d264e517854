/**
 * `tcpchat bench --logins`: a login load alongside the latency scenario
 * (issue 11), as a user runs it against a real server under Bun: the
 * accounts are registered, the logins succeed at about the asked rate and
 * the chat figures are still there; refusals are reported; bad flags exit 2.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, startChatServer } from "../support/chat_server.ts";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";

async function tcpchat(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([binPath("bun"), "main.ts", ...args], { cwd: REPO_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), 20_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code: await proc.exited, stdout, stderr };
}

describe("tcpchat bench --logins", () => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer("bun", ["--rate-per-s", "0", "--default-room", ""]);
  });
  afterAll(() => server.stop());

  test("logins at 10/s over 5 accounts alongside the latency scenario: every login welcomed with its account, chat still measured", async () => {
    const run = await tcpchat([
      "bench", `127.0.0.1:${server.port}`, "-s", "latency", "--subs", "3", "--rate", "100", "--warmup", "200ms",
      "--duration", "1500ms", "--logins", "10", "--login-accounts", "5", "--nick-prefix", "lg", "--json",
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.logins).toMatchObject({ rate_asked: 10, accounts: 5, concurrency: 4, rate_limited: 0, unavailable: 0, failed: 0 });
    // 1.5 s at 10/s: about 15 due, each a hello with the right password answered by welcome, or skipped
    // while 4 were still waiting for their hash (a loaded machine); only logins that ran are counted ok.
    expect(result.logins.ok + result.logins.skipped).toBeGreaterThanOrEqual(12);
    expect(result.logins.ok + result.logins.skipped).toBeLessThanOrEqual(17);
    expect(result.logins.ok).toBeGreaterThanOrEqual(3);
    expect(result.logins.logins_per_s).toBeCloseTo(result.logins.ok / result.seconds, 1);
    expect(result.logins.latency.samples).toBe(result.logins.ok);
    expect(result.latency.samples).toBeGreaterThan(100);
    expect(result.totals.deliveries).toBe(result.totals.sent * 3);
    expect(run.stderr).toContain("registered 5 accounts");
    expect(run.stderr).toMatch(/^logins +\d/m);
    // The accounts exist on the server: a guest hello with one of their nicks is refused.
    const guest = await TestClient.connect(server.port);
    expect(await guest.request({ type: "hello", nick: "lga0" })).toMatchObject({ type: "error", code: "nick_reserved" });
    guest.destroy();
  }, 20_000);

  test("with registration closed the run cannot set up its accounts: exit 1 and the server's answer", async () => {
    await using closed = await startChatServer("bun", ["--rate-per-s", "0", "--default-room", "", "--registration", "closed"]);
    const run = await tcpchat([
      "bench", `127.0.0.1:${closed.port}`, "-s", "latency", "--subs", "2", "--rate", "50", "--duration", "1",
      "--logins", "5", "--login-accounts", "2", "-q",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("registration_closed");
  }, 20_000);

  test("bad login flags exit 2 with the usage", async () => {
    for (const args of [["-s", "idle", "--logins", "5"], ["--logins", "-1"], ["--login-accounts", "0"], ["--login-concurrency", "x"]]) {
      const run = await tcpchat(["bench", ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("Usage: tcpchat bench");
    }
  }, 20_000);
});
