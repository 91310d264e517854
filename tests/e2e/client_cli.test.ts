/**
 * The client commands as a person and a script use them: `tcpchat connect`
 * driven in a real terminal (tmux), and `tcpchat send` exit codes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, startChatServer } from "../support/chat_server.ts";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";
import { HAVE_TMUX, TerminalPane } from "../support/terminal.ts";

async function tcpchat(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([binPath("bun"), "main.ts", ...args], {
    cwd: REPO_ROOT,
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, stdout, stderr };
}

describe("tcpchat send", () => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer("bun", ["--rate-per-s", "0"]);
  });
  afterAll(() => server.stop());

  test("sends and exits 0 once acknowledged; stdin lines each become a message", async () => {
    const watcher = await TestClient.register(server.port, "watcher");
    await watcher.request({ type: "join", room: "ops" });
    const one = await tcpchat(["send", `127.0.0.1:${server.port}`, "--nick", "cron", "--room", "ops", "backup", "done"]);
    expect(one).toMatchObject({ code: 0 });
    expect(await watcher.waitFor((f) => f.type === "msg")).toMatchObject({ room: "ops", from: "cron", text: "backup done" });
    const many = await tcpchat(["send", `127.0.0.1:${server.port}`, "--nick", "cron", "--room", "#ops"], "line 1\nline 2\n");
    expect(many.code).toBe(0);
    expect((await watcher.waitFor((f) => f.type === "msg")).text).toBe("line 1");
    expect((await watcher.waitFor((f) => f.type === "msg")).text).toBe("line 2");
    watcher.destroy();
  });

  test("exit 1 when the server cannot be reached, 3 when it refuses, 2 for bad usage", async () => {
    const unreachable = await tcpchat(["send", "127.0.0.1:1", "--nick", "x", "--room", "r", "hi"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/refused/i);
    const holder = await TestClient.register(server.port, "taken");
    const taken = await tcpchat(["send", `127.0.0.1:${server.port}`, "--nick", "TAKEN", "--room", "r", "hi"]);
    expect(taken.code).toBe(3);
    expect(taken.stderr).toContain("nick_taken");
    const badRoom = await tcpchat(["send", `127.0.0.1:${server.port}`, "--nick", "x2", "--room", "Bad Room", "hi"]);
    expect(badRoom.code).toBe(3);
    expect(badRoom.stderr).toContain("invalid");
    expect((await tcpchat(["send", "--room", "r", "hi"])).code).toBe(2);
    holder.destroy();
  });
});

describe.skipIf(!HAVE_TMUX)("tcpchat connect in a terminal (tmux)", () => {
  let server: ChatServerProcess;
  const panes: TerminalPane[] = [];
  beforeAll(async () => {
    server = await startChatServer("bun", ["--rate-per-s", "0"]);
  });
  afterAll(async () => {
    for (const pane of panes) pane.kill();
    await server.stop();
  });

  function open(nick: string): TerminalPane {
    const pane = TerminalPane.open(
      `tcpchat-test-${nick}-${process.pid}`,
      `cd ${REPO_ROOT} && ${binPath("bun")} main.ts connect 127.0.0.1:${server.port} --nick ${nick}; echo EXIT=$?; sleep 60`,
    );
    panes.push(pane);
    return pane;
  }
  const keys = (pane: TerminalPane, ...k: string[]) => pane.keys(...k);
  const waitScreen = (pane: TerminalPane, pattern: RegExp, timeoutMs = 5000) => pane.waitScreen(pattern, timeoutMs);

  test("/history scrolls back: each one prints the page before the oldest message shown", async () => {
    const writer = await TestClient.register(server.port, "writer");
    await writer.request({ type: "join", room: "scroll" });
    for (let i = 1; i <= 30; i++) await writer.request({ type: "msg", room: "scroll", text: `line ${i}` });
    const cy = open("cy");
    await waitScreen(cy, /connected to .* as cy/);
    keys(cy, "/join scroll", "Enter");
    await waitScreen(cy, /<writer> line 30/); // the snapshot shows the last 20: lines 11-30
    keys(cy, "/history 5", "Enter");
    await waitScreen(cy, /#scroll history, messages 6-10 \(\/history again for earlier ones\)[\s\S]*<writer> line 6\n[\s\S]*<writer> line 10\n/);
    keys(cy, "/history", "Enter");
    await waitScreen(cy, /messages 1-5 \(nothing earlier is kept\)[\s\S]*<writer> line 1\n/);
    keys(cy, "/history", "Enter");
    await waitScreen(cy, /no earlier messages kept in #scroll/);
    keys(cy, "C-d");
    await waitScreen(cy, /EXIT=0/);
    writer.destroy();
  }, 30_000);

  test("two people talk; a message arriving mid-typing leaves the typed text intact; /who, /msg; Ctrl-C exits 0", async () => {
    const ada = open("ada");
    const bob = open("bob");
    await waitScreen(ada, /connected to .* as ada/);
    await waitScreen(bob, /connected to .* as bob/);
    keys(bob, "half way thr");
    await waitScreen(bob, /\[lobby\] half way thr/);
    keys(ada, "hello bob", "Enter");
    const bobScreen = await waitScreen(bob, /<ada> hello bob/);
    // The message is printed above the prompt, and the prompt still holds the unfinished line.
    const lines = bobScreen.trimEnd().split("\n");
    expect(lines.at(-1)).toBe("[lobby] half way thr");
    keys(bob, "ough", "Enter");
    await waitScreen(ada, /<bob> half way through/);

    keys(ada, "/who", "Enter");
    await waitScreen(ada, /\* #lobby: .*(ada \(online\)).*|\* #lobby: .*bob \(online\)/);
    keys(ada, "/msg bob a secret", "Enter");
    await waitScreen(bob, /<- ada: a secret/);
    await waitScreen(ada, /-> bob: a secret/);

    keys(bob, "C-c");
    await waitScreen(bob, /EXIT=0/);
    await waitScreen(ada, /bob left #lobby \(quit\)/);
    keys(ada, "C-d");
    await waitScreen(ada, /EXIT=0/);
  }, 30_000);
});
