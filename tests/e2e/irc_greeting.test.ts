/**
 * IRC clients that wait for the server before speaking, on the main port:
 * the server greets a connection that stays silent for 250 ms with one text
 * line (for people on nc), so such a client reads that line first. These
 * tests show that registration still works after it, and what real clients
 * make of the line, using a proxy that holds back what the client sends.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { eventuallyMatches } from "../support/eventually.ts";

const GREETING = /^\* Welcome to tcpchat\. Type a nick to sign in/;

/**
 * A TCP proxy to `port` that passes the server's bytes at once but holds the
 * client's for `holdMs` after it connects: any client becomes one that waits
 * for the server's greeting before it speaks.
 */
async function holdingProxy(port: number, holdMs: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect({ port, host: "127.0.0.1" });
    sockets.add(client).add(upstream);
    const held: (string | Uint8Array)[] = [];
    let holding = true;
    client.on("data", (chunk) => holding ? held.push(chunk) : upstream.write(chunk));
    setTimeout(() => {
      holding = false;
      for (const chunk of held) upstream.write(chunk);
    }, holdMs);
    upstream.on("data", (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}


const withWeechat = spawnSync("sh", ["-c", "command -v weechat-headless"]).status === 0;
const withIi = spawnSync("sh", ["-c", "command -v ii"]).status === 0;

describe.each(SERVER_RUNTIMES)("IRC clients that wait for the server (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, []);
  });
  afterAll(() => server.stop());

  test("a client that reads the greeting first, then sends CAP LS, NICK and USER, is an IRC client", async () => {
    const client = await TestClient.connect(server.port);
    expect(await client.nextLine(2000)).toMatch(GREETING);
    client.send("CAP LS 302\r\nNICK waiter\r\nUSER waiter 0 * :Waiter\r\nCAP END\r\n");
    expect(await client.nextLine()).toMatch(/^:tcpchat CAP \* LS :/);
    expect(await client.waitForLine(/ 001 /)).toBe(":tcpchat 001 waiter :Welcome to the tcpchat IRC network waiter");
    await client.waitForLine(/ 366 waiter #lobby /);
    client.destroy();
  });

  test.skipIf(!withWeechat)("WeeChat held back until after the greeting registers, joins #lobby, and shows the greeting once as an unknown command", async () => {
    const proxy = await holdingProxy(server.port, 600);
    const json = await TestClient.register(server.port, "greeter");
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-weechat-wait-"));
    let weechat: ChildProcess | undefined;
    try {
      const setup = [
        "/set logger.file.flush_delay 0",
        `/server add t 127.0.0.1/${proxy.port} -notls`,
        "/set irc.server.t.nicks waitwee",
        "/connect t",
      ].join(";");
      weechat = spawn("weechat-headless", ["--dir", dir, "--plugins", "irc,logger", "-r", setup], { stdio: "ignore" });
      expect(await json.waitFor((f) => f.type === "join" && f.nick === "waitwee", 10_000)).toMatchObject({ room: "lobby" });
      const serverLog = join(dir, "logs", "irc.server.t.weechatlog");
      const log = await eventuallyMatches(() => existsSync(serverLog) ? readFileSync(serverLog, "utf8") : "", /Welcome to the tcpchat IRC network waitwee/);
      // One warning line in the server buffer, before everything else; then a normal session.
      const warnings = log.split("\n").filter((line) => line.includes("\t=!=\t"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/\tirc: command "\*" not found: "\* Welcome to tcpchat\. Type a nick to sign in/);
      expect(log).toContain("client capability, enabled:");
    } finally {
      weechat?.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      json.destroy();
      proxy.close();
    }
  }, 20_000);

  test.skipIf(!withIi)("ii held back until after the greeting registers and joins", async () => {
    const proxy = await holdingProxy(server.port, 600);
    const json = await TestClient.register(server.port, "greeter2");
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-ii-wait-"));
    let ii: ChildProcess | undefined;
    try {
      ii = spawn("ii", ["-s", "127.0.0.1", "-p", String(proxy.port), "-n", "waitii", "-i", dir], { stdio: "ignore" });
      expect(await json.waitFor((f) => f.type === "join" && f.nick === "waitii", 10_000)).toMatchObject({ room: "lobby" });
      const out = await eventuallyMatches(() => {
        const path = join(dir, "127.0.0.1", "out");
        return existsSync(path) ? readFileSync(path, "utf8") : "";
      }, /Welcome to the tcpchat IRC network waitii/);
      // ii shows the greeting cut (it reads `*` as a command and `Welcome` as its target), then a normal session.
      expect(out.split("\n")[0]).toMatch(/^\d+ to tcpchat\. Type a nick to sign in/);
      await eventuallyMatches(() => {
        const path = join(dir, "127.0.0.1", "#lobby", "out");
        return existsSync(path) ? readFileSync(path, "utf8") : "";
      }, /waitii.* has joined #lobby/);
    } finally {
      ii?.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      json.destroy();
      proxy.close();
    }
  }, 20_000);
});
