/**
 * irssi (in tmux) operating a channel it created: `/mode +o`, `/mode +i`,
 * `/kick` reach a JSON member as `role`, `mode` and `leave`; a JSON
 * operator's mode change shows in irssi's window; `/msg NickServ` registers
 * the nick; irssi's own SASL PLAIN logs in. Skipped with a note when irssi or tmux is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { eventuallyMatches } from "../support/eventually.ts";

const withIrssi = ["irssi", "tmux"].every((p) => spawnSync("sh", ["-c", `command -v ${p}`]).status === 0);
if (!withIrssi) console.warn("note: skipping the irssi moderation test: irssi or tmux not installed");


describe.each(SERVER_RUNTIMES)("irssi operating a channel (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--default-room", ""]);
  });
  afterAll(() => server.stop());

  test.skipIf(!withIrssi)("irssi /mode +o, /mode +i and /kick reach a JSON member; a JSON /mode shows in irssi; /msg NickServ REGISTER", async () => {
    const home = mkdtempSync(join(tmpdir(), "tcpchat-irssi-mod-"));
    // No pacing and no paste detection: see irc_real_clients.test.ts.
    writeFileSync(
      join(home, "config"),
      'settings = { "irc/core" = { cmd_queue_speed = "0"; }; "fe-text" = { paste_detect_time = "0"; }; };\n',
    );
    const socket = `tcpchat-irssi-mod-${process.pid}-${runtime}`;
    const tmux = (...args: string[]) => spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
    const screen = () => tmux("capture-pane", "-p", "-t", "irc").stdout ?? "";
    const type = (text: string) => tmux("send-keys", "-t", "irc", "-l", text).status === 0 && tmux("send-keys", "-t", "irc", "Enter");
    const json = await TestClient.register(server.port, "jules", { defaultRoom: null });
    try {
      expect(tmux("new-session", "-d", "-s", "irc", "-x", "200", "-y", "50", `irssi --home=${home} -c 127.0.0.1 -p ${server.port} -n irsop`).status).toBe(0);
      await eventuallyMatches(screen, /Welcome to the tcpchat IRC network irsop/, 10_000);
      type("/join #irsroom");
      await eventuallyMatches(screen, /irsop.*has joined #irsroom/);
      await json.request({ type: "join", room: "irsroom" });
      await eventuallyMatches(screen, /jules.*has joined #irsroom/);
      type("/mode #irsroom +o jules");
      expect(await json.waitFor((f) => f.type === "role", 5000)).toMatchObject({ nick: "jules", op: true, by: "irsop" });
      await eventuallyMatches(screen, /mode\/#irsroom \[\+o jules\] by irsop/);
      type("/mode #irsroom +i");
      expect(await json.waitFor((f) => f.type === "mode", 5000)).toMatchObject({ by: "irsop", modes: { invite_only: true } });
      await json.request({ type: "mode", room: "irsroom", invite_only: false, key: "sesame" });
      await eventuallyMatches(screen, /mode\/#irsroom \[\+k-i \*\] by jules/);
      await json.request({ type: "deop", room: "irsroom", nick: "jules" });
      type("/kick jules out you go");
      expect(await json.waitFor((f) => f.type === "leave", 5000)).toMatchObject({ nick: "jules", reason: "kicked", by: "irsop", note: "out you go" });
      await eventuallyMatches(screen, /jules was kicked from #irsroom by irsop \[out you go\]/);
      type("/msg NickServ REGISTER irssi-password-1");
      // irssi shows a service's NOTICE in the NickServ query or the status window; look through them.
      await eventuallyMatches(() => {
        type("/window goto NickServ");
        return screen();
      }, /NickServ.*irsop is now registered to you/);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- irssi screen ---\n${screen()}`);
    } finally {
      tmux("kill-server");
      rmSync(home, { recursive: true, force: true });
      json.destroy();
    }
  }, 30_000);

  test.skipIf(!withIrssi)("irssi logs in with SASL PLAIN to an account that is not its nick, and a JSON user sees the account", async () => {
    const owner = await TestClient.register(server.port, "saslacct", { defaultRoom: null });
    await owner.request({ type: "register", password: "sasl-password-1" });
    owner.destroy();
    const home = mkdtempSync(join(tmpdir(), "tcpchat-irssi-sasl-"));
    writeFileSync(
      join(home, "config"),
      'settings = { "irc/core" = { cmd_queue_speed = "0"; }; "fe-text" = { paste_detect_time = "0"; }; };\n',
    );
    const socket = `tcpchat-irssi-sasl-${process.pid}-${runtime}`;
    const tmux = (...args: string[]) => spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
    const screen = () => tmux("capture-pane", "-p", "-t", "irc").stdout ?? "";
    const type = (text: string) => tmux("send-keys", "-t", "irc", "-l", text).status === 0 && tmux("send-keys", "-t", "irc", "Enter");
    const json = await TestClient.register(server.port, "watcher", { defaultRoom: null });
    try {
      expect(tmux("new-session", "-d", "-s", "irc", "-x", "200", "-y", "50", `irssi --home=${home} -n irsasl`).status).toBe(0);
      await eventuallyMatches(screen, /Irssi/);
      type("/network add -sasl_mechanism plain -sasl_username saslacct -sasl_password sasl-password-1 tcpnet");
      type(`/server add -network tcpnet 127.0.0.1 ${server.port}`);
      type("/connect tcpnet");
      await eventuallyMatches(screen, /You are now logged in as saslacct/, 10_000);
      await eventuallyMatches(screen, /Welcome to the tcpchat IRC network irsasl/);
      await json.request({ type: "join", room: "saslden" });
      type("/join #saslden");
      await json.waitFor((f) => f.type === "join" && f.nick === "irsasl", 5000);
      const who = await json.request({ type: "who", room: "saslden" });
      expect(who.users).toContainEqual(expect.objectContaining({ nick: "irsasl", account: "saslacct" }));
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- irssi screen ---\n${screen()}`);
    } finally {
      tmux("kill-server");
      rmSync(home, { recursive: true, force: true });
      json.destroy();
    }
  }, 30_000);
});
