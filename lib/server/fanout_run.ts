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
  /** The members iterated when the run began (a room's member set), by identity. */
  #to: Iterable<RunSession<C>> | null = null;
  #except: RunSession<C> | undefined = undefined;
  #epoch = -1;
  /** Who gets the run's bytes, in the order the room iterated them. */
  #members: C[] = [];
  /** The encoded frames, in order. */
  #frames: Uint8Array[] = [];
  #bytes = 0;

  /**
   * `limits.max_pending`: a run ends before it holds more (read at each
   * frame, so a reload applies); `wake`: asks for the write scheduler's pass,
   * which ends the run.
   */
  constructor(readonly limits: { readonly max_pending: number }, readonly wake: () => void) {}

  /**
   * Queues `frame` to every session of `to` but `except` through the open
   * run, or a new one. Returns how many members it was queued for, or -1
   * when a run cannot take it (the caller queues it frame by frame; the open
   * run has then been ended, so order holds).
   */
  broadcast(to: Iterable<RunSession<C>>, frame: ServerFrame, except: RunSession<C> | undefined): number {
    if (frame.type !== "msg") {
      this.end();
      return -1;
    }
    if (this.#to === to && this.#except === except && this.#epoch === membershipEpoch()) {
      const bytes = encodeJsonFrame(frame);
      if (this.#bytes + bytes.length <= this.limits.max_pending) {
        this.#frames.push(bytes);
        this.#bytes += bytes.length;
        return this.#members.length;
      }
      this.end();
      return this.#begin(to, except, bytes);
    }
    this.end();
    // Checked before encoding: a frame the run cannot take is encoded by the caller.
    for (const session of to) {
      if (session === except) continue;
      const member = session.peer;
      if (member.dialect !== "json" || member.transport.framed) return -1;
    }
    return this.#begin(to, except, encodeJsonFrame(frame));
  }

  #begin(to: Iterable<RunSession<C>>, except: RunSession<C> | undefined, bytes: Uint8Array): number {
    if (bytes.length > this.limits.max_pending) return -1;
    const members = this.#members;
    for (const session of to) {
      if (session === except) continue;
      const member = session.peer;
      member.fanoutRun = this;
      members.push(member);
    }
    if (members.length === 0) return -1;
    this.#to = to;
    this.#except = except;
    this.#epoch = membershipEpoch();
    this.#frames.push(bytes);
    this.#bytes = bytes.length;
    this.wake();
    return members.length;
  }

  /** Ends the open run, if any: every member gets its frames, as one buffer shared by all. */
  end(): void {
    if (this.#to === null) return;
    this.#to = null;
    this.#except = undefined;
    const frames = this.#frames;
    const members = this.#members;
    const bytes = frames.length === 1 ? frames[0]! : join(frames, this.#bytes);
    // Fresh lists while members are handed the bytes, in case one of them starts another run.
    this.#frames = [];
    this.#members = [];
    this.#bytes = 0;
    for (let i = 0; i < members.length; i++) {
      const member = members[i]!;
      // Cleared first, so that its enqueue does not end the run again.
      member.fanoutRun = null;
      member.enqueue(bytes);
    }
    // The lists are kept for the next run: fresh ones per turn would grow again to the room's size.
    if (this.#to === null) {
      frames.length = 0;
      members.length = 0;
      this.#frames = frames;
      this.#members = members;
    }
  }
}

function join(frames: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i]!;
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}
