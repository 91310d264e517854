/**
 * Delivers each followed room's messages to the hub in seq order, exactly
 * once, whatever path they take: the room's channel (in Redis's order, but
 * lost while the subscriber connection is down), the append script's answer
 * (this node's own messages, possibly ahead of the channel), or the room's
 * stream (read to fill a gap). A seq already delivered is dropped; a seq
 * past the next one on the channel means something was missed, and the
 * stream is read up to its end before the channel's messages go on.
 *
 * Pure logic over two injected functions, so it is tested without Redis.
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";
import { parseBatch, parseBatchHeader, type RelayedMsg } from "./redis_room_log.ts";

/** Where messages go: the hub's `deliver` and `roomSeq`. */
export interface FeedTarget {
  deliver(msg: MsgFrame, origin: string | undefined, force?: boolean): "delivered" | "old" | "gap" | "no_room";
  roomSeq(room: string): number | undefined;
}

/** Reads a room's stream after a seq: up to `limit` messages, ascending. */
export type ReadAfter = (room: string, afterSeq: number, limit: number) => Promise<RelayedMsg[]>;

/** How many messages one read of a stream takes while filling a gap. */
export const FILL_PAGE = 500;

/** In-order delivery for every room this node follows. */
export class RoomFeeds {
  /** Rooms being filled from their stream, with the channel's messages that arrived meanwhile. */
  readonly #filling = new Map<string, RelayedMsg[]>();
  /** Messages delivered from a stream read (not from the channel). */
  filled = 0;

  constructor(readonly target: FeedTarget, readonly readAfter: ReadAfter, readonly onError: (error: unknown) => void) {}

  /**
   * A payload from the room's channel: a batch of messages
   * (`redis_room_log.ts`). Returns how many messages it carried, or -1 when
   * it is not a message payload. A batch this node delivered already (its
   * own, from the script's answer) is dropped without being parsed.
   */
  fromPayload(room: string, payload: string): number {
    const header = parseBatchHeader(payload);
    if (!header) return -1;
    const filling = this.#filling.has(room);
    const after = filling ? 0 : this.target.roomSeq(room) ?? 0;
    if (header.first + header.count - 1 <= after) return header.count;
    for (const relayed of parseBatch(room, payload, after)) this.fromChannel(relayed);
    return header.count;
  }

  /** A message from the room's channel. */
  fromChannel(relayed: RelayedMsg): void {
    const queue = this.#filling.get(relayed.msg.room);
    if (queue) return void queue.push(relayed);
    if (this.target.deliver(relayed.msg, relayed.origin) === "gap") void this.catchUp(relayed.msg.room, [relayed]);
  }

  /** This node's own message, from the append script's answer: delivered now only if it is the next one. */
  fromReply(relayed: RelayedMsg): void {
    if (this.#filling.has(relayed.msg.room)) return;
    // A gap is left to the channel, which brings everything before it in order.
    this.target.deliver(relayed.msg, relayed.origin);
  }

  /**
   * Reads the room's stream from the last delivered seq to its end and
   * delivers it (after a lost connection, or a gap); `pending` are channel
   * messages to deliver after it. If the read fails, what cannot be
   * delivered in order waits for the next catch-up.
   */
  async catchUp(room: string, pending: RelayedMsg[] = []): Promise<void> {
    const queue = this.#filling.get(room);
    if (queue) return void queue.push(...pending);
    this.#filling.set(room, pending);
    let complete = false;
    try {
      for (;;) {
        const after = this.target.roomSeq(room);
        if (after === undefined) break;
        const page = await this.readAfter(room, after, FILL_PAGE);
        // Messages the stream no longer keeps are gone for everyone: skip past them.
        for (const r of page) if (this.target.deliver(r.msg, r.origin, true) === "delivered") this.filled++;
        if (page.length < FILL_PAGE) break;
      }
      complete = true;
    } catch (error) {
      this.onError(error);
    } finally {
      const waiting = this.#filling.get(room) ?? [];
      this.#filling.delete(room);
      // After a full read, the stream has everything before these; otherwise keep order and leave gaps for the next catch-up.
      for (const r of waiting) this.target.deliver(r.msg, r.origin, complete);
    }
  }
}
