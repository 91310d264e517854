/**
 * The floor under tcpchat's latency (issue 15): the smallest server that
 * `../shared/bench` accepts, on the same runtime adapter (`lib/runtime`) as
 * tcpchat, so that an interleaved run of both says how much of a tail is the
 * runtime and its event loop and how much is the chat server.
 *
 * It does only what the load generator needs: `hello` gets `welcome`, `join`
 * gets `room`, and a `msg` goes at once, in the anchors' frame layout, to
 * every member of its room, the sender included: one write per member, no
 * validation, no history, no limits, no write scheduler (a line that is not
 * JSON is skipped). Not a chat server: a measuring stick, kept working by
 * `tests/e2e/bench_tools.test.ts`.
 *
 * Usage: `PORT=7777 bun scripts/floor_relay.ts` (or `deno run -A`); with the
 * bench: `compare.sh ... -- relay='exec bun scripts/floor_relay.ts'`;
 * `scripts/latency_probe.ts relay` runs it under the latency probe.
 *
 * @module
 */

import { type Conn, getRuntime } from "../lib/runtime/mod.ts";
import { type Runtime, WRITTEN } from "../lib/runtime/types.ts";

const rooms = new Map<string, Set<Conn>>();
const encoder = new TextEncoder();
let seq = 0;

const ignore = (): void => {};

/** Writes `bytes`, ignoring the outcome (a closed peer leaves its rooms on close); no reaction when taken at once, as in tcpchat. */
function send(conn: Conn, bytes: Uint8Array): void {
  const written = conn.write(bytes);
  if (written !== WRITTEN) written.catch(ignore);
}

/** One connection: lines in, frames out. */
function serve(conn: Conn): void {
  conn.setNoDelay(true);
  let nick = "";
  let partial = "";
  // One per connection: a streaming decoder holds the start of a character cut by a chunk's end.
  const decoder = new TextDecoder();
  const joined = new Set<Set<Conn>>();
  const onLine = (line: string): void => {
    let frame: { type?: string; nick?: string; room?: string; text?: string };
    try {
      frame = JSON.parse(line);
    } catch {
      return;
    }
    if (frame.type === "hello") {
      nick = frame.nick ?? "";
      send(conn, encoder.encode(JSON.stringify({ type: "welcome", nick }) + "\n"));
    } else if (frame.type === "join") {
      const room = frame.room ?? "";
      let members = rooms.get(room);
      if (members === undefined) rooms.set(room, members = new Set());
      members.add(conn);
      joined.add(members);
      send(conn, encoder.encode(JSON.stringify({ type: "room", room }) + "\n"));
    } else if (frame.type === "msg") {
      const out = encoder.encode(
        JSON.stringify({ type: "msg", room: frame.room, from: nick, text: frame.text, seq: ++seq, ts: Date.now() }) + "\n",
      );
      for (const member of rooms.get(frame.room ?? "") ?? []) send(member, out);
    }
  };
  conn.pipe({
    inputClosed: false,
    onChunk(bytes) {
      let text = partial + decoder.decode(bytes, { stream: true });
      for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n")) {
        onLine(text.slice(0, end));
        text = text.slice(end + 1);
      }
      partial = text;
    },
  }).then(() => conn.close());
  conn.closed.then(() => {
    for (const members of joined) members.delete(conn);
  });
}

/** Listens on 127.0.0.1:`port` through `runtime` and relays until the process ends. */
export async function runFloorRelay(runtime: Runtime, port: number): Promise<void> {
  const listener = await runtime.listen({ hostname: "127.0.0.1", port });
  // The line tcpchat prints too, so that scripts and tests that wait for it work with either.
  console.log(`listening 127.0.0.1:${listener.addr.port}`);
  for await (const conn of listener) serve(conn);
}

if (import.meta.main) await runFloorRelay(getRuntime(), Number(getRuntime().env("PORT") ?? "7777"));
