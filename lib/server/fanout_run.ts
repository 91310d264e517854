/**
 * Fan-out runs: a turn's `msg` frames to one room are queued to its members
 * once, as one buffer, instead of frame by frame into every member's queue.
 *
 * Why (issue 15): a publisher's read brings hundreds of `msg` lines at once
 * (scenario A: ~700 per read, 100 members). Queueing each frame to each
 * member was a loop step, five checks and an array push per delivery, about
 * a quarter of the server's CPU; the bytes then left as one joined write per
 * member anyway. A run keeps the frames of consecutive broadcasts to the
 * same members in one list and hands every member the joined bytes once,
 * when the run ends: the work per delivery becomes work per member per turn.
 * The first message of a pass still goes frame by frame; the second to the
 * same members starts the run, so a turn with a single message costs what
 * it did before.
 *
 * What keeps every guarantee:
 * - Order: a run only grows while nothing else is queued to any of its
 *   members. Queueing anything to a member first ends the run (the
 *   connection calls {@linkcode FanoutRuns.end} through its `fanoutRun`
 *   mark), so the member gets the run's frames, then the new one. So does any
 *   broadcast the run cannot take (another room, another frame type), any
 *   change of any room's membership ({@linkcode membershipEpoch}), and the
 *   write scheduler's pass, before anything is flushed.
 * - Bounded queues and the slow-consumer cut: a run ends before it holds more
 *   than `max_pending` bytes, and ending it queues the bytes through each
 *   member's `enqueue`, which checks the bound as before.
 * - One write per destination per turn: the run's bytes are queued before the
 *   scheduler flushes, in the same pass.
 *
 * Only members that read JSON over a byte stream take part: a WebSocket
 * sends one message per frame, and text and IRC members get their own
 * rendering. A room with any other member uses the frame-by-frame path.
 *
 * @module
 */
import { encodeJsonFrame, type ServerFrame } from "../protocol/server_frames.ts";
import { membershipEpoch } from "../hub/room.ts";

/** A connection as a run sees it (the server's `Connection`). */
export interface RunMember {
  /** Set while an open run holds frames for this connection; it calls `end()` before queueing anything else. */
  fanoutRun: { end(): void } | null;
  /** The connection's dialect: only `json` members take part. */
  readonly dialect: string;
  /** Only byte streams take part (`framed` is false). */
  readonly transport: { readonly framed: boolean };
  /** Queues bytes, with the bound and slow-consumer cut. */
  enqueue(bytes: Uint8Array): void;
}

/** A session as a run sees it: its connection. */
export interface RunSession<C extends RunMember> {
  readonly peer: C;
}

/** The one open run of a server, and how it ends. */
export class FanoutRuns<C extends RunMember = RunMember> {
  /** The members iterated when the run began (a room's member set), by identity; null while no run is open. */
  #to: Iterable<RunSession<C>> | null = null;
  #except: RunSession<C> | undefined = undefined;
  #epoch = -1;
  /**
   * Who gets the run's bytes (the first #count slots), in the order the room
   * iterated them, and the encoded frames (the first #frameCount). Both lists
   * are kept from run to run with counts rather than emptied: at one message
   * per turn, growing them again each time was an allocation per message.
   */
  #members: (C | null)[] = [];
  #count = 0;
  #frames: (Uint8Array | null)[] = [];
  #frameCount = 0;
  #bytes = 0;
  /** The previous msg broadcast of this pass that went frame by frame, if any. */
  #lastTo: Iterable<RunSession<C>> | null = null;
  #lastExcept: RunSession<C> | undefined = undefined;
  #lastEpoch = -1;

  /**
   * `limits.max_pending`: a run ends before it holds more (read at each
   * frame, so a reload applies); `wake`: asks for the write scheduler's pass,
   * which must call {@linkcode endPass}.
   */
  constructor(readonly limits: { readonly max_pending: number }, readonly wake: () => void) {}

  /**
   * Queues `frame` to every session of `to` but `except` through the open
   * run, or a new one. Returns how many members it was queued for, or -1
   * when a run cannot take it (the caller queues it frame by frame; the open
   * run has then been ended, so order holds).
   */
  broadcast(to: Iterable<RunSession<C>>, frame: ServerFrame, except: RunSession<C> | undefined): number {
    // Only a Set (a room's members): the caller may have to iterate `to` again.
    if (frame.type !== "msg" || !(to instanceof Set)) {
      this.end();
      this.#lastTo = null;
      return -1;
    }
    const epoch = membershipEpoch();
    if (this.#to === to && this.#except === except && this.#epoch === epoch) {
      const bytes = encodeJsonFrame(frame);
      if (this.#bytes + bytes.length <= this.limits.max_pending) {
        this.#frames[this.#frameCount++] = bytes;
        this.#bytes += bytes.length;
        return this.#count;
      }
    }
    this.end();
    // The second msg to the same members in one pass starts a run; the first goes frame by frame,
    // so that a turn with one message (a chat at a human pace) costs what it did without runs.
    if (this.#lastTo === to && this.#lastExcept === except && this.#lastEpoch === epoch) {
      const count = this.#begin(to, except, frame);
      // A room a run cannot serve (a WebSocket or IRC member) is not scanned again for the next message.
      if (count < 0) this.#lastTo = null;
      return count;
    }
    this.#lastTo = to;
    this.#lastExcept = except;
    this.#lastEpoch = epoch;
    return -1;
  }

  /** The write scheduler's pass: ends the open run, and the next message starts afresh (frame by frame). */
  endPass(): void {
    this.end();
    this.#lastTo = null;
    this.#lastExcept = undefined;
  }

  #begin(to: Iterable<RunSession<C>>, except: RunSession<C> | undefined, frame: ServerFrame): number {
    const members = this.#members;
    let count = 0;
    for (const session of to) {
      if (session === except) continue;
      const member = session.peer;
      if (member.dialect !== "json" || member.transport.framed) {
        // Not for a run: the caller queues the frame to each member its own way.
        this.#release(count);
        return -1;
      }
      member.fanoutRun = this;
      members[count++] = member;
    }
    const bytes = count === 0 ? null : encodeJsonFrame(frame);
    if (bytes === null || bytes.length > this.limits.max_pending) {
      this.#release(count);
      return -1;
    }
    this.#count = count;
    this.#to = to;
    this.#except = except;
    this.#epoch = membershipEpoch();
    this.#frames[0] = bytes;
    this.#frameCount = 1;
    this.#bytes = bytes.length;
    this.wake();
    return count;
  }

  /** Unmarks the first `count` members gathered and lets go of them. */
  #release(count: number): void {
    const members = this.#members;
    for (let i = 0; i < count; i++) {
      members[i]!.fanoutRun = null;
      members[i] = null;
    }
  }

  /**
   * Ends the open run, if any: every member gets its frames, as one buffer
   * shared by all. A member's `enqueue` must not broadcast synchronously
   * (the slow-consumer cut defers its `leave` to a microtask), so no other
   * run starts while this one is being handed out.
   */
  end(): void {
    if (this.#to === null) return;
    this.#to = null;
    this.#except = undefined;
    const frames = this.#frames;
    const frameCount = this.#frameCount;
    const bytes = frameCount === 1 ? frames[0]! : join(frames, frameCount, this.#bytes);
    for (let i = 0; i < frameCount; i++) frames[i] = null;
    this.#frameCount = 0;
    this.#bytes = 0;
    const members = this.#members;
    const count = this.#count;
    this.#count = 0;
    for (let i = 0; i < count; i++) {
      const member = members[i]!;
      // Let go of the connection (a closed one must not stay reachable from here).
      members[i] = null;
      // Cleared first, so that its enqueue does not end the run again.
      member.fanoutRun = null;
      member.enqueue(bytes);
    }
  }
}

function join(frames: (Uint8Array | null)[], count: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const frame = frames[i]!;
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}
