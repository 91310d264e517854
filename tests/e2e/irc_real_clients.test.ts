/**
 * Real IRC clients against the server: irssi driven in tmux, WeeChat
 * (headless) driven through its fifo and read through its logs, and ii (a
 * file-based client) driven through its fifos, each chatting with a JSON
 * user, on every runtime of the suite (each test takes under a second). A
 * test whose binary is missing is skipped with a note (Debian packages:
 * irssi, tmux, weechat-headless, ii).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { eventuallyMatches } from "../support/eventually.ts";
import { HAVE_IRSSI, withIrssi } from "../support/irssi.ts";

/** Whether every named program is on PATH; prints a note naming the missing ones. */
function have(...programs: string[]): boolean {
  const missing = programs.filter((p) => spawnSync("sh", ["-c", `command -v ${p}`]).status !== 0);
  if (missing.length > 0) console.warn(`note: skipping real-client IRC tests: ${missing.join(", ")} not installed`);
  return missing.length === 0;
}

const withIi = have("ii");
const withWeechat = have("weechat-headless");

describe.each(SERVER_RUNTIMES)("real IRC clients (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, []);
  });
  afterAll(() => server.stop());

  test.skipIf(!HAVE_IRSSI)("irssi in tmux registers, joins, chats, acts, sends a DM and quits, with a JSON user", async () => {
    const json = await TestClient.register(server.port, "jay");
    await json.request({ type: "join", room: "dev" });
    try {
      await withIrssi(`chat-${runtime}`, `-c 127.0.0.1 -p ${server.port} -n irssiuser`, async ({ screen, type }) => {
        expect(await json.waitFor((f) => f.type === "join" && f.nick === "irssiuser", 10_000)).toMatchObject({ room: "lobby" });
        await eventuallyMatches(screen, /Welcome to the tcpchat IRC network irssiuser/);
        type("/join #dev");
        expect(await json.waitFor((f) => f.type === "join" && f.room === "dev" && f.nick === "irssiuser", 5000)).toBeTruthy();
        await eventuallyMatches(screen, /irssiuser.*has joined #dev/);
        type("hello from irssi");
        expect(await json.waitFor((f) => f.type === "msg" && f.from === "irssiuser")).toMatchObject({ room: "dev", text: "hello from irssi" });
        json.send({ type: "msg", room: "dev", text: "hi irssi" });
        await eventuallyMatches(screen, /<.?jay> hi irssi/);
        type("/me waves");
        expect(await json.waitFor((f) => f.type === "msg" && f.from === "irssiuser")).toMatchObject({ text: "/me waves" });
        type("/msg jay psst");
        expect(await json.waitFor((f) => f.type === "dm")).toMatchObject({ from: "irssiuser", to: "jay", text: "psst" });
        // A JSON user's nick change shows in the channel.
        json.send({ type: "nick", nick: "jay2" });
        await eventuallyMatches(screen, /jay is now known as jay2/);
        type("/quit see you");
        expect(await json.waitFor((f) => f.type === "leave" && f.nick === "irssiuser", 5000)).toMatchObject({ reason: "quit" });
      });
    } finally {
      json.destroy();
    }
  }, 30_000);

  test.skipIf(!withWeechat)("WeeChat (headless) autojoins, chats and acts with a JSON user, and sees them", async () => {
    const json = await TestClient.register(server.port, "wendy");
    await json.request({ type: "join", room: "dev" });
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-weechat-"));
    let weechat: ChildProcess | undefined;
    try {
      const setup = [
        "/set fifo.file.enabled on",
        "/set logger.file.flush_delay 0",
        `/server add t 127.0.0.1/${server.port} -notls`,
        "/set irc.server.t.nicks weeuser",
        // Like irssi, WeeChat paces what it sends; the server's rate limit is what is tested here.
        "/set irc.server.t.anti_flood_prio_high 0",
        "/set irc.server.t.anti_flood_prio_low 0",
        "/set irc.server.t.autojoin #dev",
        "/connect t",
      ].join(";");
      weechat = spawn("weechat-headless", ["--dir", dir, "--plugins", "irc,fifo,logger", "-r", setup], { stdio: "ignore" });
      expect(await json.waitFor((f) => f.type === "join" && f.room === "dev" && f.nick === "weeuser", 10_000)).toBeTruthy();
      const fifo = () => join(dir, readdirSync(dir).find((name) => name.startsWith("weechat_fifo"))!);
      const devLog = join(dir, "logs", "irc.t.#dev.weechatlog");
      const read = () => existsSync(devLog) ? readFileSync(devLog, "utf8") : "";
      // The channel's buffer (and its log) exists once WeeChat has read the server's JOIN.
      await eventuallyMatches(read, /weeuser.*has joined #dev/);
      appendFileSync(fifo(), "irc.t.#dev *hello from weechat\n");
      expect(await json.waitFor((f) => f.type === "msg" && f.from === "weeuser")).toMatchObject({ room: "dev", text: "hello from weechat" });
      appendFileSync(fifo(), "irc.t.#dev */me juggles\n");
      expect(await json.waitFor((f) => f.type === "msg" && f.from === "weeuser")).toMatchObject({ text: "/me juggles" });
      json.send({ type: "msg", room: "dev", text: "nice one" });
      // wendy created #dev, so WeeChat shows her with the operator prefix.
      await eventuallyMatches(read, /\t@wendy\tnice one/);
      json.send({ type: "leave", room: "dev" });
      await eventuallyMatches(read, /wendy.*has left #dev/);
    } finally {
      weechat?.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      json.destroy();
    }
  }, 30_000);

  test.skipIf(!withIi)("ii through its fifos joins, chats with a JSON user, and frees its nick when killed", async () => {
    const json = await TestClient.register(server.port, "jo");
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-ii-"));
    let ii: ChildProcess | undefined;
    try {
      ii = spawn("ii", ["-s", "127.0.0.1", "-p", String(server.port), "-n", "iiuser", "-i", dir], { stdio: "ignore" });
      const serverDir = join(dir, "127.0.0.1");
      const lobbyOut = join(serverDir, "#lobby", "out");
      const read = (path: string) => () => existsSync(path) ? readFileSync(path, "utf8") : "";
      // ii creates the channel's files when the server's JOIN for the default room arrives.
      await eventuallyMatches(read(join(serverDir, "out")), /Welcome to the tcpchat IRC network iiuser/);
      await eventuallyMatches(read(lobbyOut), /iiuser.* has joined #lobby/);
      expect(await json.waitFor((f) => f.type === "join" && f.nick === "iiuser")).toMatchObject({ room: "lobby" });
      appendFileSync(join(serverDir, "#lobby", "in"), "hello from ii\n");
      expect(await json.waitFor((f) => f.type === "msg" && f.from === "iiuser")).toMatchObject({ room: "lobby", text: "hello from ii" });
      json.send({ type: "msg", room: "lobby", text: "hi ii" });
      await eventuallyMatches(read(lobbyOut), /<jo> hi ii/);
      appendFileSync(join(serverDir, "in"), "/j #ii-room\n");
      await eventuallyMatches(read(join(serverDir, "#ii-room", "out")), /iiuser.* has joined #ii-room/);
      ii.kill("SIGKILL");
      expect(await json.waitFor((f) => f.type === "presence" && f.nick === "iiuser")).toMatchObject({ status: "offline", reason: "disconnect" });
      // The nick is free at once.
      const again = await TestClient.connect(server.port);
      again.send("NICK iiuser\r\nUSER i 0 * :i\r\n");
      await again.waitForLine(/ 001 iiuser /);
      again.destroy();
    } finally {
      ii?.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      json.destroy();
    }
  }, 30_000);
});
