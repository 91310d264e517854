/**
 * Where a message's latency goes inside the server (issue 15): runs
 * `tcpchat serve` (or the floor relay, `scripts/floor_relay.ts`) on a runtime
 * whose connections are watched, and prints, whenever the last connection
 * closes, two distributions for the messages that passed through:
 *
 * - `read late`: when the server's read callback got the message, against the
 *   earliest any message got there (the load generator's send stamp is its own
 *   clock, so only differences count). Its tail is time before the server's
 *   code runs: the kernel, the scheduler, a collection or a timer in the way.
 * - `read to write`: from that callback to the return of the socket write of
 *   each copy (the publisher's and every subscriber's). Its tail is the
 *   server's own time, the kernel's send included.
 *
 * Messages are recognised by the text `../shared/bench` sends: `@` and a
 * 19-digit stamp. Nothing in the server changes: the probe wraps the
 * runtime's `listen` and each connection's `pipe` and `write`.
 *
 * Usage (with `../shared/bench`'s load generator, or `tcpchat bench -s latency`):
 *   bun scripts/latency_probe.ts serve --port 7777 --rate-per-s 0 --default-room '' --memory
 *   bun scripts/latency_probe.ts relay --port 7777
 *   (or `deno run -A scripts/latency_probe.ts ...`)
 *
 * @module
 */

import { getRuntime } from "../lib/runtime/mod.ts";
import type { ByteSink, Conn, Listener, ListenOptions, Runtime } from "../lib/runtime/types.ts";
import { serveCommand } from "../lib/cli/serve.ts";
import { LatencyHistogram } from "../lib/bench/histogram.ts";
import { runFloorRelay } from "./floor_relay.ts";

const SAMPLES = 1 << 20;
const AT = 0x40; // "@"

/** Calls `each` with every send stamp in `bytes` (`@` and 19 digits), in µs: a read or a write may carry several messages. */
function forEachStamp(bytes: Uint8Array, each: (stamp: number) => void): void {
  for (let at = bytes.indexOf(AT); at >= 0 && at + 20 <= bytes.length; at = bytes.indexOf(AT, at + 1)) {
    let ns = 0;
    let digits = 0;
    while (digits < 19) {
      const digit = bytes[at + 1 + digits]! - 0x30;
      if (digit < 0 || digit > 9) break;
      ns = ns * 10 + digit;
      digits++;
    }
    if (digits === 19) each(ns / 1000);
  }
}

const now = (): number => performance.now() * 1000;
/**
 * Read offsets (our clock minus the send stamp), kept as they are: lateness
 * is counted from the smallest, known only at the end. Preallocated, so that
 * recording allocates nothing.
 */
const readOffsets = new Float64Array(SAMPLES);
let readCount = 0;
const readToWrite = new LatencyHistogram();
/** Stamp -> when the read callback saw it (offset: stamp minus our clock, to find the earliest). */
const readAt = new Map<number, number>();
let earliestOffset = Infinity;
let open = 0;

let readTime = 0;
let writeTime = 0;

const readStamp = (stamp: number): void => {
  const offset = readTime - stamp;
  if (readCount < SAMPLES) readOffsets[readCount++] = offset;
  if (offset < earliestOffset) earliestOffset = offset;
  readAt.set(stamp, readTime);
};

const writeStamp = (stamp: number): void => {
  const seenAt = readAt.get(stamp);
  if (seenAt !== undefined) readToWrite.record(writeTime - seenAt);
};

/** Reads `bytes`; returns what a stamp cut by the chunk's end left behind, to go in front of the next chunk (or null). */
function onRead(bytes: Uint8Array, carry: Uint8Array | null): Uint8Array | null {
  readTime = now();
  let scanned = bytes;
  if (carry !== null) {
    scanned = new Uint8Array(carry.length + bytes.length);
    scanned.set(carry);
    scanned.set(bytes, carry.length);
  }
  forEachStamp(scanned, readStamp);
  // Small read buffers (Deno's start at 128 bytes) cut lines anywhere, stamps included.
  const last = scanned.lastIndexOf(AT);
  return last >= 0 && last + 20 > scanned.length ? scanned.slice(last) : null;
}

function onWrite(bytes: Uint8Array): void {
  writeTime = now();
  forEachStamp(bytes, writeStamp);
}

/** `n=… p50=… p99=… p99.9=… max=… us` of `histogram`. */
function summaryLine(histogram: LatencyHistogram): string {
  const s = histogram.summary();
  return `n=${s.samples} p50=${s.p50_us} p99=${s.p99_us} p99.9=${s.p999_us} max=${s.max_us} us`;
}

/** Once the last connection is gone: both distributions, then a fresh start for the next run. */
function onClosed(): void {
  if (--open > 0 || readCount === 0) return;
  const readLate = new LatencyHistogram();
  for (let i = 0; i < readCount; i++) readLate.record(readOffsets[i]! - earliestOffset);
  console.error(`latency probe: read late    ${summaryLine(readLate)}`);
  console.error(`latency probe: read to write ${summaryLine(readToWrite)}`);
  readToWrite.reset();
  readCount = 0;
  readAt.clear();
  earliestOffset = Infinity;
}

/** `conn` with its reads and writes watched; everything else goes to `conn` itself (its private fields need it as `this`). */
function watched(conn: Conn): Conn {
  open++;
  conn.closed.then(onClosed);
  const write = (bytes: Uint8Array): Promise<void> => {
    const written = conn.write(bytes);
    onWrite(bytes);
    return written;
  };
  let carry: Uint8Array | null = null;
  const pipe = (sink: ByteSink): Promise<true> =>
    conn.pipe({
      onChunk(bytes) {
        carry = onRead(bytes, carry);
        sink.onChunk(bytes);
      },
      get inputClosed() {
        return sink.inputClosed;
      },
    });
  return new Proxy(conn, {
    get(target, key) {
      if (key === "write") return write;
      if (key === "pipe") return pipe;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function watchedListener(listener: Listener): Listener {
  return {
    addr: listener.addr,
    close: () => listener.close(),
    async *[Symbol.asyncIterator]() {
      for await (const conn of listener) yield watched(conn);
    },
  };
}

const base = getRuntime();
const runtime: Runtime = { ...base, listen: async (options: ListenOptions) => watchedListener(await base.listen(options)) };
const [what = "", ...args] = base.args;
if (what === "serve") {
  base.exit(await serveCommand(runtime, args));
} else if (what === "relay") {
  const port = args[0] === "--port" ? Number(args[1]) : 7777;
  await runFloorRelay(runtime, port);
} else {
  console.error("usage: latency_probe.ts serve [serve options] | relay [--port N]");
  base.exit(2);
}
