/**
 * Groups the messages a node appends to one room in one turn of the event
 * loop into one script call: one EVALSHA takes a range of seqs for all of
 * them, stores each and publishes them together. A node that reads many
 * frames from one socket read (or from several senders in a busy room) then
 * pays Redis's per-command cost, the client's RESP encoding and one pub/sub
 * copy per batch instead of per message; a lone message still leaves at the
 * end of the turn it arrived in (no timer, no added wait).
 *
 * Rules that keep the cluster's contract:
 * - A message's promise settles only with its batch's answer: resolved with
 *   its seq once Redis stored the batch, rejected (the sender gets
 *   `unavailable`) if the call failed, never acked on a guess.
 * - Batches of one room are sent in the order their messages arrived, and
 *   each keeps its messages' order, so seqs follow arrival order.
 * - Anything else this node sends to Redis first sends what is waiting
 *   ({@linkcode AppendBatches.flush}, called by the link before every
 *   command): a `msg` then a `leave` of the same user reach Redis in that
 *   order.
 * - At most {@linkcode MAX_BATCH} messages or {@linkcode MAX_BATCH_BYTES}
 *   bytes per call, so one script never holds Redis for long.
 *
 * @module
 */

/** The most messages one script call stores. */
export const MAX_BATCH = 128;
/** The most body bytes (UTF-16 length, near enough) one script call carries. */
export const MAX_BATCH_BYTES = 256 * 1024;

/** Sends one room's batch; resolves with the seq Redis gave its first message. */
export type SendBatch = (room: string, bodies: string[]) => Promise<number>;

interface Waiting {
  bodies: string[];
  bytes: number;
  /** Per message: settles its promise with its seq (through its `make`) or the batch's error. */
  settle: { resolve: (seq: number) => void; reject: (error: unknown) => void }[];
}

/** Per-room batches of appends waiting for the end of the turn. */
export class AppendBatches {
  readonly #waiting = new Map<string, Waiting>();
  #scheduled = false;
  /** Script calls sent (for `/metrics`). */
  batches = 0;
  /** Messages sent in them. */
  messages = 0;

  constructor(readonly send: SendBatch) {}

  /**
   * Queues `body` for `room`; resolves with its seq once its batch is
   * stored, or with `make(seq)` (the caller's frame, without a second
   * promise per message).
   */
  add(room: string, body: string): Promise<number>;
  add<T>(room: string, body: string, make: (seq: number) => T): Promise<T>;
  add<T>(room: string, body: string, make?: (seq: number) => T): Promise<T | number> {
    let waiting = this.#waiting.get(room);
    if (waiting && (waiting.bodies.length >= MAX_BATCH || waiting.bytes + body.length > MAX_BATCH_BYTES)) {
      this.#send(room, waiting);
      waiting = undefined;
    }
    if (!waiting) {
      waiting = { bodies: [], bytes: 0, settle: [] };
      this.#waiting.set(room, waiting);
    }
    waiting.bodies.push(body);
    waiting.bytes += body.length;
    const done = new Promise<T | number>((resolve, reject) =>
      waiting.settle.push({ resolve: make === undefined ? resolve : (seq) => resolve(make(seq)), reject })
    );
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return done;
  }

  /** Sends every waiting batch now (at the end of the turn, or before another command keeps its place after them). */
  flush(): void {
    this.#scheduled = false;
    if (this.#waiting.size === 0) return;
    // Taken out first: sending may call flush again (the link flushes before every command).
    const all = [...this.#waiting];
    this.#waiting.clear();
    for (const [room, waiting] of all) this.#send(room, waiting);
  }

  #send(room: string, waiting: Waiting): void {
    this.#waiting.delete(room);
    this.batches++;
    this.messages += waiting.bodies.length;
    let sent: Promise<number>;
    try {
      sent = this.send(room, waiting.bodies);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (first) => waiting.settle.forEach((s, i) => s.resolve(first + i)),
      (error) => waiting.settle.forEach((s) => s.reject(error)),
    );
  }
}
