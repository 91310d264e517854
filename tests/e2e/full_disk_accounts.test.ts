/**
 * Accounts and room state on a full disk, on a small tmpfs (needs root and
 * mount; skipped with a note otherwise): `register` is answered `unavailable`,
 * never `registered`, while the disk is full; once space returns it works,
 * and after a kill -9 the account and a topic set meanwhile are still there.
 */
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { fillDisk, mountSmallDisk } from "../support/small_disk.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const { path: mnt, mounted } = mountSmallDisk("tcpchat-test-accounts", "8m");

describe.skipIf(!mounted).each(SERVER_RUNTIMES)("accounts on a full disk (%s)", (runtime) => {
  test("register is refused with unavailable while the disk is full, works once space is back, and survives kill -9", async () => {
    const dir = join(mnt, `data-${runtime}`);
    const flags = ["--rate-per-s", "0", "--default-room", "", "--data-dir", dir];
    let server = await startChatServer(runtime, flags);
    const filler = join(mnt, "filler");
    try {
      const ann = await TestClient.register(server.port, "ann", { defaultRoom: null });
      await ann.request({ type: "join", room: "ops" });
      fillDisk(filler);
      // Messages until the store refuses writes (the reserve absorbs the first full commit).
      const text = "x".repeat(3000);
      let refusal: Frame | undefined;
      for (let i = 0; i < 5000 && refusal === undefined; i++) {
        const answer = await ann.request({ type: "msg", room: "ops", text: `${i} ${text}` });
        if (answer.type !== "msg") refusal = answer;
      }
      expect(refusal).toMatchObject({ code: "unavailable" });
      const bob = await TestClient.register(server.port, "bob", { defaultRoom: null });
      expect(await bob.request({ type: "register", password: "bob-full-disk-1" })).toMatchObject({ type: "error", code: "unavailable" });
      expect(bob.lines.some((l) => l.includes('"registered"'))).toBe(false);
      rmSync(filler);
      let registered: Frame | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
        registered = await bob.request({ type: "register", password: "bob-full-disk-1" });
        if (registered.type === "account") break;
        await sleep(300);
      }
      expect(registered).toMatchObject({ type: "account", change: "registered" });
      expect(await ann.request({ type: "topic", room: "ops", topic: "disk is back" })).toMatchObject({ type: "topic" });
      for (const c of [ann, bob]) c.destroy();
      server.signal("SIGKILL");
      await server.exited;
      server = await startChatServer(runtime, flags);
      const back = await TestClient.connect(server.port);
      expect(await back.request({ type: "hello", nick: "bob", password: "bob-full-disk-1" })).toMatchObject({ type: "welcome", account: "bob" });
      expect(await back.request({ type: "join", room: "ops" })).toMatchObject({ type: "room", topic: "disk is back" });
      back.destroy();
    } finally {
      rmSync(filler, { force: true });
      await server.stop();
      // The next runtime gets the whole (small) file system.
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
