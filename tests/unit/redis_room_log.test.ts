/**
 * The Redis room log's batching against a redis-server of the test's own:
 * what one turn of appends costs in Redis, and what a cut in the middle of
 * a batch leaves (all of it or none, never an ack for a message Redis may
 * not have, and the seqs carry on without a gap).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisLink } from "../../lib/cluster/redis_link.ts";
import { parseBatch, RedisRoomLog } from "../../lib/cluster/redis_room_log.ts";
import { roomChannel } from "../../lib/cluster/redis_keys.ts";
import { eventually } from "../support/eventually.ts";
import { type RedisProcess, startRedis } from "../support/redis_server.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp_proxy.ts";

let redis: RedisProcess;
let proxy: TcpProxy;
let admin: RedisLink;

beforeAll(async () => {
  redis = await startRedis();
  proxy = await startTcpProxy(redis.port);
  admin = await RedisLink.create(redis.url);
  await admin.connect();
});

afterAll(async () => {
  await admin.close();
  proxy.close();
  await redis.kill();
});

/** Top-level script calls Redis has run so far. */
async function evalCalls(): Promise<number> {
  const info = String(await admin.call(["INFO", "commandstats"]));
  return [...info.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

describe("RedisRoomLog batches", () => {
  test("messages appended to a room in one turn cost one script call, keep their order, and reach the channel as one payload", async () => {
    const log = new RedisRoomLog(await RedisLink.create(redis.url), { history: 100 });
    await log.link.connect();
    const payloads: string[] = [];
    await admin.subscribe(roomChannel("one"), (p) => payloads.push(p));
    const room = await log.open("one");
    const before = await evalCalls();
    const frames = await Promise.all(["a", "b", "c", "d"].map((text, i) => log.append(room, "ann", text, 1000 + i, `s1 ${i}`)));
    expect(frames.map((f) => [f.seq, f.text])).toEqual([[1, "a"], [2, "b"], [3, "c"], [4, "d"]]);
    expect((await evalCalls()) - before).toBe(1);
    await eventually(() => payloads.length === 1, "the batch on the channel");
    expect(parseBatch("one", payloads[0]).map((r) => [r.msg.seq, r.msg.text, r.origin])).toEqual([[1, "a", "s1 0"], [2, "b", "s1 1"], [3, "c", "s1 2"], [4, "d", "s1 3"]]);
    expect((await log.page("one", { after: 0, limit: 10 })).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    // Retention still holds per message.
    const many = await Promise.all(Array.from({ length: 150 }, (_, i) => log.append(room, "ann", `m${i}`, 0)));
    expect(many.at(-1)!.seq).toBe(154);
    const kept = await log.page("one", { after: 0, limit: 1000 });
    expect(kept.length).toBe(100);
    expect(kept[0].seq).toBe(55);
    await admin.unsubscribe(roomChannel("one"));
    await log.close();
  });

  test("a batch cut off from Redis: every message in it is refused, Redis has all of it or none, and the next seqs follow without a gap", async () => {
    const log = new RedisRoomLog(await RedisLink.create(`redis://127.0.0.1:${proxy.port}`), { history: 1000 });
    await log.link.connect();
    const room = await log.open("cut");
    await log.append(room, "ann", "before", 0);
    const cut = ["x", "y", "z"].map((text) => log.append(room, "ann", text, 0));
    proxy.cutAll();
    const results = await Promise.allSettled(cut);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    await eventually(() => log.link.up, "the link back up");
    const after = await log.append(room, "ann", "after", 0);
    const stored = (await log.page("cut", { after: 0, limit: 100 })).map((m) => [m.seq, m.text]);
    const cutStored = stored.length === 5;
    expect(stored).toEqual(cutStored ? [[1, "before"], [2, "x"], [3, "y"], [4, "z"], [5, "after"]] : [[1, "before"], [2, "after"]]);
    expect(after.seq).toBe(stored.length);
    await log.close();
  });
});
