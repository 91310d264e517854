/**
 * The text dialect as a person on nc or telnet uses it, sharing rooms with
 * JSON clients.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

describe.each(SERVER_RUNTIMES)("text dialect (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, []);
  });
  afterAll(() => server.stop());

  test("a silent connection is greeted; the first line is the nick; nick_taken asks again", async () => {
    const json = await TestClient.register(server.port, "Dora");
    const person = await TestClient.connect(server.port);
    expect(await person.nextLine(2000)).toMatch(/Welcome to tcpchat.*nick/);
    person.send("dora\r\n");
    expect(await person.nextLine()).toMatch(/^! nick_taken: .*another nick/);
    person.send("/nick eve\r\n");
    expect(await person.waitForLine("Welcome, eve")).toContain("/help");
    expect(await person.waitForLine("Now in #lobby")).toContain("Dora");
    json.destroy();
    person.destroy();
  });

  test("text and JSON users see each other's messages, joins, away notes and direct messages", async () => {
    const json = await TestClient.register(server.port, "jason");
    const person = await TestClient.connect(server.port);
    person.send("tex\n");
    await person.waitForLine("Now in #lobby");
    expect(await json.waitFor((f) => f.type === "join")).toEqual({ type: "join", room: "lobby", nick: "tex" });

    person.send("hello from nc\n");
    expect(await json.waitFor((f) => f.type === "msg")).toMatchObject({ from: "tex", text: "hello from nc" });
    expect(await person.waitForLine("<tex>")).toBe("[lobby] <tex> hello from nc");

    json.send({ type: "msg", room: "lobby", text: "hi tex" });
    expect(await person.waitForLine("<jason>")).toBe("[lobby] <jason> hi tex");
    person.send("/me waves\n");
    expect(await json.waitFor((f) => f.type === "msg" && f.from === "tex")).toMatchObject({ text: "/me waves" });
    expect(await person.waitForLine("waves")).toBe("[lobby] * tex waves");

    json.send({ type: "status", status: "away", note: "lunch" });
    expect(await person.waitForLine("away")).toBe("* jason is away (lunch)");
    person.send("/msg jason psst\n");
    expect(await person.waitForLine("->")).toBe("-> jason: psst");
    expect(await json.waitFor((f) => f.type === "dm")).toMatchObject({ from: "tex", to: "jason", text: "psst" });
    json.send({ type: "dm", to: "tex", text: "yes?" });
    expect(await person.waitForLine("<-")).toBe("<- jason: yes?");

    person.send("/who\n");
    expect(await person.waitForLine("* #lobby:")).toMatch(/jason \(away: lunch\).*tex \(online\)|tex \(online\).*jason \(away: lunch\)/);
    person.send("/frobnicate\n");
    expect(await person.waitForLine("!")).toMatch(/^! unknown_command: /);
    person.send("/join dev\n");
    await person.waitForLine("Now in #dev");
    person.send("in dev now\n");
    expect(await person.waitForLine("[dev]")).toBe("[dev] <tex> in dev now");
    person.send("/quit bye\n");
    expect(await person.waitForLine("Bye")).toBe("* Bye (quit)");
    await person.waitClosed();
    expect(await json.waitFor((f) => f.type === "leave")).toMatchObject({ nick: "tex", reason: "quit" });
    json.destroy();
  });

  test("telnet Ctrl-C (IAC IP IAC DO TIMING-MARK) is refused and the session carries on", async () => {
    const person = await TestClient.connect(server.port);
    person.send("tel\r\n");
    await person.waitForLine("Now in #lobby");
    person.clear();
    person.sendBytes(Uint8Array.from([255, 244, 255, 253, 6]));
    const refusal = await new Promise<string>((resolve) => {
      person.socket.once("data", (d: string | Buffer) => resolve(Buffer.from(d as string, "latin1").toString("hex")));
    });
    expect(refusal).toBe("fffc06"); // IAC WONT TIMING-MARK
    person.send("still here\r\n");
    // The refusal bytes have no newline of their own, so they lead the next line.
    expect(await person.waitForLine("still here")).toEndWith("[lobby] <tel> still here");
    person.destroy();
  });

  test("a script that pipes lines and closes its side gets every answer before the close", async () => {
    const person = await TestClient.connect(server.port);
    person.send("piper\n/join pipes\nfirst\n/who\n");
    person.end();
    await person.waitClosed();
    const all = person.lines.join("\n");
    expect(all).toContain("[pipes] <piper> first");
    // The creator of #pipes is its operator, marked @.
    expect(all).toContain("* #pipes: @piper (online)");
  });
});
