/**
 * irssi (in tmux) operating a channel it created: `/mode +o`, `/mode +i`,
 * `/kick` reach a JSON member as `role`, `mode` and `leave`; a JSON
 * operator's mode change shows in irssi's window; `/msg NickServ` registers
 * the nick; irssi's own SASL PLAIN logs in. Skipped with a note when irssi or tmux is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { eventuallyMatches } from "../support/eventually.ts";
import { HAVE_IRSSI, withIrssi } from "../support/irssi.ts";

describe.each(SERVER_RUNTIMES)("irssi operating a channel (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--default-room", ""]);
  });
  afterAll(() => server.stop());

  test.skipIf(!HAVE_IRSSI)("irssi /mode +o, /mode +i and /kick reach a JSON member; a JSON /mode shows in irssi; /msg NickServ REGISTER", async () => {
    const json = await TestClient.register(server.port, "jules", { defaultRoom: null });
    try {
      await withIrssi(`mod-${runtime}`, `-c 127.0.0.1 -p ${server.port} -n irsop`, async ({ screen, type }) => {
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
      });
    } finally {
      json.destroy();
    }
  }, 30_000);

  test.skipIf(!HAVE_IRSSI)("irssi logs in with SASL PLAIN to an account that is not its nick, and a JSON user sees the account", async () => {
    const owner = await TestClient.register(server.port, "saslacct", { defaultRoom: null });
    await owner.request({ type: "register", password: "sasl-password-1" });
    owner.destroy();
    const json = await TestClient.register(server.port, "watcher", { defaultRoom: null });
    try {
      await withIrssi(`sasl-${runtime}`, "-n irsasl", async ({ screen, type }) => {
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
      });
    } finally {
      json.destroy();
    }
  }, 30_000);
});
