import { expect, test } from "bun:test";
import type { WsClosed, WsPeer } from "../../lib/runtime/types.ts";
import { OutboundQueue } from "../../lib/server/outbound_queue.ts";
import { SEND_NOW_BYTES, textOfFrame, WsTransport } from "../../lib/server/ws_transport.ts";

/** A peer that records what it is asked to do. */
function fakePeer() {
  const calls: string[][] = [];
  const events: string[] = [];
  const peer: WsPeer = {
    remoteAddr: { hostname: "127.0.0.1", port: 1 },
    onMessage: null,
    sendText: (text) => void calls.push([text]),
    sendTexts: (texts) => void calls.push([...texts]),
    bufferedAmount: 0,
    close: (code, reason) => void events.push(`close ${code} ${reason}`),
    terminate: () => void events.push("terminate"),
    closed: new Promise<WsClosed>(() => {}),
  };
  return { peer, calls, events };
}

const frame = (text: string) => new TextEncoder().encode(`{"type":"msg","text":"${text}"}\n`);
const turn = () => new Promise((resolve) => setImmediate(resolve));

test("frames queued during one turn leave as one batch at its end, each as one message without its newline", async () => {
  const { peer, calls } = fakePeer();
  const transport = new WsTransport(peer);
  const queue = new OutboundQueue();
  for (const text of ["a", "b"]) {
    queue.push(frame(text));
    await transport.write(queue);
  }
  queue.push(frame("c"));
  await transport.write(queue);
  expect(calls).toEqual([]);
  expect(transport.bufferedBytes).toBe(3 * frame("a").length);
  await turn();
  expect(calls).toEqual([['{"type":"msg","text":"a"}', '{"type":"msg","text":"b"}', '{"type":"msg","text":"c"}']]);
  expect(transport.bufferedBytes).toBe(0);
});

test("a batch of SEND_NOW_BYTES goes out at once, and a polite close sends the batch first", async () => {
  const { peer, calls, events } = fakePeer();
  const transport = new WsTransport(peer);
  const queue = new OutboundQueue();
  const big = frame("x".repeat(SEND_NOW_BYTES));
  queue.push(big);
  transport.write(queue);
  expect(calls).toHaveLength(1);
  queue.push(frame("last"));
  transport.write(queue);
  transport.closeWrite("quit");
  expect(calls.at(-1)).toEqual(['{"type":"msg","text":"last"}']);
  expect(events).toEqual(["close 1000 quit"]);
});

test("a frame shared by many members is decoded once", () => {
  const bytes = frame("shared");
  expect(textOfFrame(bytes)).toBe(textOfFrame(bytes));
  expect(textOfFrame(bytes)).toBe('{"type":"msg","text":"shared"}');
});
