/**
 * Accounts and moderation in the text dialect: `/register`, the password
 * prompt after an account's nick (telnet clients are told not to echo it),
 * and the operator commands, as a person on nc or telnet sees them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

const IAC_WILL_ECHO = "fffb01";
const IAC_WONT_ECHO = "fffc01";

/** Every byte a client receives, as hex, for telnet negotiation checks. */
function rawHex(client: TestClient): () => string {
  let hex = "";
  client.socket.on("data", (d: string | Buffer) => (hex += Buffer.from(d as string, "latin1").toString("hex")));
  return () => hex;
}

describe.each(SERVER_RUNTIMES)("text dialect accounts and moderation (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--operators", "opal", "--rate-per-s", "1000", "--burst", "1000"]);
  });
  afterAll(() => server.stop());

  test("/register, then signing in asks for the password on the next line; telnet echo is off meanwhile", async () => {
    const first = await TestClient.connect(server.port);
    first.send("opal\r\n");
    await first.waitForLine("Now in #lobby");
    first.send("/register correct-horse-1\r\n");
    expect(await first.waitForLine("Account")).toBe("* Account opal registered; you are logged in");
    first.send("/quit\r\n");
    await first.waitClosed();

    const telnet = await TestClient.connect(server.port);
    const hex = rawHex(telnet);
    // A telnet client's negotiation (IAC DO SUPPRESS-GO-AHEAD) marks the connection as telnet.
    telnet.sendBytes(Uint8Array.from([255, 253, 3]));
    telnet.send("opal\r\n");
    expect(await telnet.waitForLine("nick_reserved")).toMatch(/! nick_reserved: .*type its password/);
    await waitUntil(() => hex().includes(IAC_WILL_ECHO));
    // The client agrees (IAC DO ECHO): an answer to our offer, which must not be refused.
    telnet.sendBytes(Uint8Array.from([255, 253, 1]));
    telnet.send("wrong-password\r\n");
    expect(await telnet.waitForLine("unauthorized")).toMatch(/^.*! unauthorized: .*type a nick:$/);
    await waitUntil(() => hex().includes(IAC_WONT_ECHO));
    telnet.send("opal\r\n");
    await telnet.waitForLine("nick_reserved");
    telnet.send("correct-horse-1\r\n");
    expect(await telnet.waitForLine("Welcome")).toContain("logged in as opal");
    expect(hex().split(IAC_WILL_ECHO).length - 1).toBe(2);
    expect(hex().split(IAC_WONT_ECHO).length - 1).toBe(2);
    // The server never echoes a password.
    expect(telnet.lines.join("\n")).not.toContain("correct-horse-1");
    expect(telnet.lines.join("\n")).not.toContain("wrong-password");

    // nc: no telnet bytes at all; /nick NAME PASSWORD signs in on one line.
    const nc = await TestClient.connect(server.port);
    const ncHex = rawHex(nc);
    nc.send("/nick someone-else\r\n");
    await nc.waitForLine("Now in #lobby");
    nc.send("/nick opal correct-horse-1\r\n");
    expect(await nc.waitForLine("nick_taken")).toContain("opal");
    expect(ncHex()).not.toContain("fffb");
    telnet.destroy();
    nc.destroy();
  });

  test("operator commands: /topic, /mode, /op, /kick, /ban, /bans, /unban, /invite and /who marks operators", async () => {
    const op = await TestClient.connect(server.port);
    op.send("tess\r\n/join den\r\n");
    await op.waitForLine("Now in #den");
    const guest = await TestClient.connect(server.port);
    guest.send("ugo\r\n/join den\r\n");
    await guest.waitForLine("Now in #den");

    op.send("/topic fresh paint\r\n");
    expect(await guest.waitForLine("topic")).toBe("* tess set the topic of #den: fresh paint");
    guest.send("/topic\r\n");
    expect(await guest.waitForLine("Topic of")).toBe("* Topic of #den: fresh paint");
    guest.send("/topic mine\r\n");
    expect(await guest.waitForLine("!")).toMatch(/^! not_op: /);
    guest.send("/who\r\n");
    expect(await guest.waitForLine("* #den:")).toMatch(/@tess \(online\)/);

    op.send("/mode den +i +k sesame\r\n");
    expect(await guest.waitForLine("modes")).toBe("* tess set the modes of #den: +i +k +t");
    op.send("/kick ugo enough\r\n");
    expect(await guest.waitForLine("kicked")).toBe("* You were kicked from #den by tess (enough)");
    guest.send("/join den\r\n");
    expect(await guest.waitForLine("!")).toMatch(/^! invite_only: /);
    op.send("/invite ugo\r\n");
    expect(await op.waitForLine("Invitation")).toBe("* Invitation to #den sent");
    expect(await guest.waitForLine("invites")).toBe("* tess invites you to #den (type /join den)");
    guest.send("/join den\r\n");
    expect(await guest.waitForLine("Now in #den")).toContain("ugo");
    expect(await guest.waitForLine("Topic of")).toBe("* Topic of #den: fresh paint");
    op.send("/ban ugo spam\r\n");
    expect(await op.waitForLine("banned nick")).toBe("* tess banned nick:ugo from #den");
    expect(await guest.waitForLine("banned from")).toBe("* You were banned from #den by tess (spam)");
    op.send("/bans\r\n");
    expect(await op.waitForLine("Bans in")).toBe("* Bans in #den: nick:ugo (by tess: spam)");
    op.send("/unban nick:ugo\r\n");
    expect(await op.waitForLine("lifted")).toBe("* tess lifted the ban nick:ugo in #den");
    op.send("/unban bogus\r\n");
    expect(await op.waitForLine("!")).toMatch(/^! invalid: mask: /);
    op.send("/kill ugo\r\n");
    expect(await op.waitForLine("!")).toMatch(/^! not_op: /);
    op.destroy();
    guest.destroy();
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
