/**
 * Order and resume: every member sees every message once, in seq order, with
 * no gaps and in the same order; a client that reconnects with `since` gets
 * exactly what it missed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

describe.each(SERVER_RUNTIMES)("order and resume (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--rate-per-s", "0", "--default-room", ""]);
  });
  afterAll(() => server.stop());

  test("5 publishers x 20 members x 200 messages: all delivered once, in seq order, same order for all", async () => {
    const members = await Promise.all(
      Array.from({ length: 20 }, (_, i) => TestClient.register(server.port, `ord${i}`, { defaultRoom: null })),
    );
    for (const m of members) await m.request({ type: "join", room: "order" });
    const perPublisher = 200;
    const total = 5 * perPublisher;
    const received = members.map(() => [] as Frame[]);
    const collectors = members.map(async (m, i) => {
      while (received[i].length < total) {
        const f = await m.next(15_000);
        if (f.type === "msg") received[i].push(f);
      }
    });
    await Promise.all(
      members.slice(0, 5).map(async (publisher, p) => {
        for (let k = 0; k < perPublisher; k++) publisher.send({ type: "msg", room: "order", text: `p${p}-${k}` });
      }),
    );
    await Promise.all(collectors);
    const reference = received[0].map((f) => `${f.seq}:${f.from}:${f.text}`);
    expect(received[0].map((f) => f.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(received[0].map((f) => f.text)).size).toBe(total);
    for (let p = 0; p < 5; p++) {
      // Each publisher's own messages keep the order it sent them in.
      const own = received[0].filter((f) => f.from === `ord${p}`).map((f) => f.text);
      expect(own).toEqual(Array.from({ length: perPublisher }, (_, k) => `p${p}-${k}`));
    }
    for (const r of received) expect(r.map((f) => `${f.seq}:${f.from}:${f.text}`)).toEqual(reference);
    for (const m of members) m.destroy();
  }, 60_000);

  test("a client that reconnects with join since gets exactly the missed messages", async () => {
    const talker = await TestClient.register(server.port, "talker", { defaultRoom: null });
    await talker.request({ type: "join", room: "resume" });
    let away = await TestClient.register(server.port, "away", { defaultRoom: null });
    await away.request({ type: "join", room: "resume" });
    for (let i = 1; i <= 3; i++) await talker.request({ type: "msg", room: "resume", text: `before ${i}` });
    const lastSeen = (await away.waitFor((f) => f.type === "msg" && f.text === "before 3")).seq;
    away.reset();
    await talker.waitFor((f) => f.type === "leave" && f.nick === "away");
    for (let i = 1; i <= 5; i++) await talker.request({ type: "msg", room: "resume", text: `missed ${i}` });
    away = await TestClient.register(server.port, "away", { defaultRoom: null });
    const snap = await away.request({ type: "join", room: "resume", since: lastSeen });
    expect(snap.history.map((m: Frame) => m.text)).toEqual([1, 2, 3, 4, 5].map((i) => `missed ${i}`));
    expect(snap.history.map((m: Frame) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(snap.seq).toBe(8);
    talker.destroy();
    away.destroy();
  });
});
