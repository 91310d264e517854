import { expect, test } from "bun:test";
import type { WsClosed, WsPeer } from "../../lib/runtime/types.ts";
import { OutboundQueue } from "../../lib/server/outbound_queue.ts";
import { WriteScheduler } from "../../lib/server/write_scheduler.ts";
import { textOfFrame, WsTransport } from "../../lib/server/ws_transport.ts";

/** A peer that records what it is asked to do. */
function fakePeer() {
  const calls: string[][] = [];
  const events: string[] = [];
  let reads = 0;
  const state = { buffered: 0 };
  const peer: WsPeer = {
    remoteAddr: { hostname: "127.0.0.1", port: 1 },
    onMessage: null,
    sendText: (text) => void calls.push([text]),
    sendTexts: (texts) => void calls.push([...texts]),
    get bufferedAmount() {
      reads++;
      return state.buffered;
    },
    close: (code, reason) => void events.push(`close ${code} ${reason}`),
    terminate: () => void events.push("terminate"),
    closed: new Promise<WsClosed>(() => {}),
  };
  return { peer, calls, events, state, reads: () => reads };
}

const frame = (text: string) => new TextEncoder().encode(`{"type":"msg","text":"${text}"}\n`);
const turn = () => new Promise((resolve) => setImmediate(resolve));

test("the queued frames leave in one write, each as one message without its newline", () => {
  const { peer, calls } = fakePeer();
  const transport = new WsTransport(peer);
  const queue = new OutboundQueue();
  for (const text of ["a", "b", "c"]) queue.push(frame(text));
  transport.write(queue);
  expect(calls).toEqual([['{"type":"msg","text":"a"}', '{"type":"msg","text":"b"}', '{"type":"msg","text":"c"}']]);
  expect(transport.write(queue)).toBeNull();
});

test("the runtime's buffered amount is asked for only while the last reading was not zero", () => {
  const { peer, state, reads } = fakePeer();
  const transport = new WsTransport(peer);
  const queue = new OutboundQueue();
  queue.push(frame("a"));
  transport.write(queue);
  const after = reads();
  for (let i = 0; i < 100; i++) expect(transport.bufferedBytes).toBe(0);
  expect(reads()).toBe(after);
  state.buffered = 5000;
  queue.push(frame("b"));
  transport.write(queue);
  expect(transport.bufferedBytes).toBe(5000);
  state.buffered = 0;
  expect(transport.bufferedBytes).toBe(0);
});

test("markLater flushes once at the end of the turn, however often it is marked", async () => {
  const scheduler = new WriteScheduler();
  let flushes = 0;
  const target = { flushPending: false, laterPending: false, flush: () => void flushes++ };
  for (let i = 0; i < 10; i++) scheduler.markLater(target);
  await Promise.resolve();
  expect(flushes).toBe(0);
  await turn();
  expect(flushes).toBe(1);
});

test("frames held for the end of the turn wait for the store's commit like any other output", async () => {
  const scheduler = new WriteScheduler();
  const events: string[] = [];
  let committed = false;
  scheduler.beforeFlush = () => {
    events.push(committed ? "commit" : "commit failed");
    return committed;
  };
  const target = { flushPending: false, laterPending: false, flush: () => void events.push("flush") };
  scheduler.markLater(target);
  await turn();
  expect(events).toEqual(["commit failed"]);
  committed = true;
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(events).toEqual(["commit failed", "commit", "flush"]);
});

test("a polite close sends status 1000 with the reason, and a frame shared by many is decoded once", () => {
  const { peer, events } = fakePeer();
  new WsTransport(peer).closeWrite("quit");
  expect(events).toEqual(["close 1000 quit"]);
  const bytes = frame("shared");
  expect(textOfFrame(bytes)).toBe(textOfFrame(bytes));
  expect(textOfFrame(bytes)).toBe('{"type":"msg","text":"shared"}');
});
