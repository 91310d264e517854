/**
 * A full disk while the server runs, on a small tmpfs (needs root and mount;
 * skipped with a note otherwise): frames that need a write get `error`
 * `unavailable` with `retry_after_ms`, never a false ack; the server keeps
 * serving and stores again by itself once space returns; after a kill -9
 * every acked message is still there.
 */
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { fillDisk, mountSmallDisk } from "../support/small_disk.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const { path: mnt, mounted } = mountSmallDisk("tcpchat-test", "16m");

describe.skipIf(!mounted).each(SERVER_RUNTIMES)("a full disk (%s)", (runtime) => {
  test("writes get unavailable with retry_after_ms, never a false ack; space back, the server stores again; nothing acked is lost", async () => {
    const dir = join(mnt, `data-${runtime}`);
    const flags = ["--rate-per-s", "0", "--default-room", "", "--data-dir", dir];
    let server = await startChatServer(runtime, flags);
    const filler = join(mnt, "filler");
    try {
      const c = await TestClient.register(server.port, "ann", { defaultRoom: null });
      await c.request({ type: "join", room: "ops" });
      expect((await c.request({ type: "msg", room: "ops", text: "before" })).seq).toBe(1);
      fillDisk(filler);
      const text = "x".repeat(3000);
      const acked: Frame[] = [];
      let refusal: Frame | undefined;
      for (let i = 0; i < 5000 && refusal === undefined; i++) {
        const answer = await c.request({ type: "msg", room: "ops", text: `${i} ${text}` });
        if (answer.type === "msg") acked.push(answer);
        else refusal = answer;
      }
      expect(refusal).toMatchObject({ type: "error", code: "unavailable" });
      expect(refusal!.retry_after_ms).toBeGreaterThan(0);
      await server.waitForLog("cannot commit");
      // Still serving everything that needs no write.
      expect(await c.request({ type: "ping", t: 1 })).toMatchObject({ type: "pong" });
      expect((await c.request({ type: "msg", room: "ops", text: "still full" })).code).toBe("unavailable");
      rmSync(filler);
      let after: Frame | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
        after = await c.request({ type: "msg", room: "ops", text: "space is back" });
        if (after.type === "msg") break;
        await sleep(after.retry_after_ms ?? 200);
      }
      expect(after).toMatchObject({ type: "msg", text: "space is back" });
      await server.waitForLog("store writable again");
      acked.push(after!);
      c.destroy();
      server.signal("SIGKILL");
      await server.exited;
      server = await startChatServer(runtime, flags);
      const d = await TestClient.register(server.port, "bob", { defaultRoom: null });
      const snap = await d.joinSince("ops", 0);
      const kept = new Map((snap.history as Frame[]).map((m) => [m.seq, m.text]));
      for (const ack of acked) expect(kept.get(ack.seq)).toBe(ack.text);
      expect(snap.seq).toBe(after!.seq);
      d.destroy();
    } finally {
      rmSync(filler, { force: true });
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
