/**
 * Logs as operators read them: both formats carry the connection id, peer
 * and nick; every error frame's trace id is in its log line; the log file
 * survives a full disk (/dev/full) and a deleted file.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { DEFAULT_DENO_FLAGS } from "../support/runtimes.ts";

const dir = mkdtempSync(join(tmpdir(), "tcpchat-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deno needs write permission for a log file, and all permissions for a device such as /dev/full. */
const WRITE = { denoFlags: [...DEFAULT_DENO_FLAGS, "--allow-write"] };
const DEVICE = { denoFlags: ["--allow-all"] };

type JsonLine = { "@timestamp": string; level: string; message: string; logger: string; properties: Record<string, unknown> };

function jsonLines(text: string): JsonLine[] {
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

test("pretty lines: time, level, logger, message, then the ids as key=value", async () => {
  await using server = await startChatServer(SERVER_RUNTIMES[0], ["--log-format", "pretty", "--log-level", "debug"]);
  const pat = await TestClient.register(server.port, "pat");
  pat.send("{not json\n");
  const error = await pat.waitFor((f) => f.type === "error");
  expect(error.code).toBe("bad_frame");
  expect(error.trace).toMatch(/^[0-9a-z]{6}-[0-9a-z]+$/);
  pat.send({ type: "quit" });
  await pat.waitClosed();
  await server.waitForLog("disconnect conn=");
  const lines = server.stderr().split("\n");
  const stamp = String.raw`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d`;
  const peer = String.raw`peer=127\.0\.0\.1:\d+`;
  expect(lines).toContainEqual(
    expect.stringMatching(new RegExp(`${stamp} \\[DBG\\] tcpchat·server: connect conn=1 ${peer} nick=- transport=tcp$`)),
  );
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(
    `${stamp} \\[DBG\\] tcpchat·errors: error bad_frame sent, trace ${error.trace} conn=1 ${peer} nick=pat message=`,
  )));
  expect(lines).toContainEqual(expect.stringMatching(
    new RegExp(`${stamp} \\[INF\\] tcpchat·server: disconnect conn=1 ${peer} nick=pat reason=quit dialect=json transport=tcp$`),
  ));
  expect(lines.filter((l) => l.startsWith("{"))).toEqual([]);
});

describe.each(SERVER_RUNTIMES)("logs (%s)", (runtime) => {
  test("json lines: each error's trace is in its log line with conn, peer and nick; text users see the trace", async () => {
    await using server = await startChatServer(runtime, ["--log-format", "json", "--max-text", "5"]);
    const json = await TestClient.register(server.port, "jay");
    const tooLong = await json.request({ type: "msg", room: "lobby", text: "far too long" });
    expect(tooLong.code).toBe("text_too_long");
    expect(typeof tooLong.trace).toBe("string");
    const notInRoom = await json.request({ type: "leave", room: "nowhere" }); // debug: not logged at info
    const person = await TestClient.connect(server.port);
    person.send("tex\n/frob\n");
    const line = await person.waitForLine("! unknown_command");
    const textTrace = /\(trace ([0-9a-z]+-[0-9a-z]+)\)$/.exec(line)?.[1];
    expect(textTrace).toBeDefined();
    person.send("/quit\n");
    await person.waitClosed();
    await server.waitForLog('"reason":"quit"');

    const logs = jsonLines(server.stderr());
    for (const l of logs) expect(Object.keys(l)).toEqual(["@timestamp", "level", "message", "logger", "properties"]);
    const byTrace = (trace: string) => logs.find((l) => l.properties.trace === trace);
    expect(byTrace(tooLong.trace)).toMatchObject({
      level: "INFO",
      logger: "tcpchat.errors",
      properties: { code: "text_too_long", conn: 1, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/), nick: "jay" },
    });
    // Errors that are neither limits nor closes are logged at debug, below the default level.
    expect(byTrace(notInRoom.trace)).toBeUndefined();
    expect(logs.find((l) => l.message.startsWith("disconnect"))).toMatchObject({
      level: "INFO",
      properties: { conn: 2, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/), nick: "tex", reason: "quit", dialect: "text", transport: "tcp" },
    });
    await server.stop();
    expect(jsonLines(server.stderr()).at(-1)!.message).toMatch(/^shut down: told 1 clients/);
    json.destroy();
  });

  test("a log file on /dev/full: the server keeps serving, warns once, counts the loss, exits 0", async () => {
    await using server = await startChatServer(runtime, ["--log-file", "/dev/full", "--metrics", "127.0.0.1:0"], DEVICE);
    const a = await TestClient.register(server.port, "a");
    const b = await TestClient.register(server.port, "b");
    for (let i = 0; i < 5; i++) {
      expect(await a.request({ type: "msg", room: "lobby", text: `hi ${i}` })).toMatchObject({ type: "msg" });
      b.destroy();
      const again = await TestClient.register(server.port, `b${i}`);
      again.destroy();
    }
    await server.waitForLog("cannot write log file");
    const metrics = await (await fetch(`http://${server.lines()[0].slice("metrics ".length)}/metrics`)).text();
    expect(Number(/^tcpchat_log_file_errors_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^tcpchat_log_lines_dropped_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(server.stderr().split("cannot write log file").length - 1).toBe(1);
    expect(await a.request({ type: "ping", t: 1 })).toMatchObject({ type: "pong", t: 1 });
    server.signal("SIGTERM");
    expect(await server.exited).toBe(0);
    a.destroy();
  });

  test("the log file gets JSON lines, and is created again when it is deleted", async () => {
    const path = join(dir, `${runtime}.log`);
    await using server = await startChatServer(runtime, ["--log-file", path, "--log-format", "auto"], WRITE);
    await TestClient.register(server.port, "first").then((c) => c.destroy());
    const fileHas = async (text: string) => {
      for (let i = 0; i < 100 && !(existsSync(path) && readFileSync(path, "utf8").includes(text)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return readFileSync(path, "utf8");
    };
    const before = await fileHas('"nick":"first"');
    expect(jsonLines(before).map((l) => l.message)).toContainEqual(expect.stringMatching(/^tcpchat .* listening on/));
    rmSync(path);
    await TestClient.register(server.port, "second").then((c) => c.destroy());
    const after = await fileHas('"nick":"second"');
    expect(after).not.toContain('"nick":"first"');
    expect(jsonLines(after).every((l) => l.logger.startsWith("tcpchat"))).toBe(true);
  });
});
