/**
 * A room's recent messages. Sequence numbers in it are consecutive,
 * so "everything after seq N" is an index computation, not a search.
 *
 * Two things drop messages: retention (`capacity`, the `history` setting)
 * and the server-wide memory budget (`history_memory`, see
 * {@linkcode HistoryBudget}), which takes the oldest messages of the least
 * recently active rooms first. With a data directory the memory is a cache:
 * a page that reaches below what the ring holds is answered by a
 * {@linkcode HistorySource} (see `history_paging.ts`).
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";
import type { Evictable, HistoryBudget } from "./history_budget.ts";
import { msgBytes } from "./msg_bytes.ts";

/** Which kept messages a page asks for (the `history` frame's fields, with the server's caps applied). */
export interface PageQuery {
  /** Only messages with a greater seq; the page is then the oldest such. */
  after?: number;
  /** Only messages with a smaller seq; without `after` the page is the newest such. */
  before?: number;
  /** At most this many messages. */
  limit: number;
  /** At most this many bytes (as {@linkcode msgBytes} counts), except that a page never stops short of one message. */
  maxBytes: number;
}

/** One page of history, ascending seq. */
export interface HistoryPage {
  msgs: MsgFrame[];
  /** More kept messages follow in the paging direction (after the last with `after`, before the first otherwise). */
  more: boolean;
}

/** A page from memory, and whether it wanted messages older than the ring holds. */
export interface MemoryPage extends HistoryPage {
  /** The page ran into the oldest held message while older ones once existed (seq > 1): a disk could know more. */
  reachesPast: boolean;
}

/**
 * A room's most recent messages (at most `capacity`), charged to a memory
 * budget. They sit in an array with a moving start, compacted when half of it
 * is dropped, so memory follows the messages held (not the capacity: 10,000
 * rooms that may each keep 10,000 messages cost nothing until they do) and
 * every operation stays O(1) amortized.
 */
export class RoomHistory implements Evictable {
  #msgs: MsgFrame[] = [];
  #bytes: number[] = [];
  /** Index in the arrays of the oldest held message. */
  #head = 0;
  /** Seq of the newest message ever pushed (also when not kept), so an emptied history still knows where it stands. */
  #lastSeq = 0;
  #heldBytes = 0;
  #budget: HistoryBudget | null = null;

  constructor(public capacity: number) {}

  /** Messages held now. */
  get size(): number {
    return this.#msgs.length - this.#head;
  }

  /** Bytes charged for the messages held now. */
  get bytes(): number {
    return this.#heldBytes;
  }

  /** Seq of the oldest message held; the next seq to come when none is held. */
  get firstSeq(): number {
    return this.size === 0 ? this.#lastSeq + 1 : this.#at(0).seq;
  }

  /**
   * Says that the room's messages up to `seq` exist but are not held here (a
   * room restored from the store after a restart): pages reaching below the
   * next message then go to the history source. Only for an empty history.
   */
  startAt(seq: number): void {
    if (this.size === 0) this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  /** Charges this history's messages to `budget` from now on (the hub's server-wide one). */
  useBudget(budget: HistoryBudget): void {
    this.#budget = budget;
  }

  /** Appends a message, dropping the oldest past capacity; may make the budget evict elsewhere (or here). */
  push(msg: MsgFrame): void {
    this.#lastSeq = msg.seq;
    if (this.capacity <= 0) return this.clear();
    // Past capacity (also after a reload lowered it) the oldest go: that is retention, not memory.
    while (this.size >= this.capacity) this.#release(this.#dropOldest());
    const bytes = msgBytes(msg);
    this.#msgs.push(msg);
    this.#bytes.push(bytes);
    this.#heldBytes += bytes;
    this.#budget?.added(this, bytes);
  }

  /** Budget: drops the oldest held message and returns its bytes (already taken off this history's count). */
  evictOldest(): number {
    return this.#dropOldest();
  }

  /** Forgets every held message (the room is forgotten, or keeps nothing). */
  clear(): void {
    const bytes = this.#heldBytes;
    this.#msgs = [];
    this.#bytes = [];
    this.#head = 0;
    this.#heldBytes = 0;
    this.#release(bytes);
  }

  /** The last `count` messages, oldest first. */
  last(count: number): MsgFrame[] {
    return this.#slice(Math.max(0, this.size - Math.max(0, count)), this.size);
  }

  /** The held messages with seq greater than `seq`, oldest first. */
  after(seq: number): MsgFrame[] {
    if (this.size === 0) return [];
    return this.#slice(Math.min(this.size, Math.max(0, seq - this.#at(0).seq + 1)), this.size);
  }

  /** A page of held messages (see {@linkcode PageQuery}); `reachesPast` says whether older ones might exist elsewhere. */
  page(query: PageQuery): MemoryPage {
    const first = this.firstSeq;
    const last = this.#lastSeq;
    // Seqs the query allows, clipped to what has ever existed.
    const low = Math.max(1, (query.after ?? 0) + 1);
    const high = Math.min(last, (query.before ?? Infinity) - 1);
    if (low > high) return { msgs: [], more: false, reachesPast: false };
    const msgs: MsgFrame[] = [];
    let bytes = 0;
    const fits = (index: number) =>
      msgs.length < query.limit && (msgs.length === 0 || bytes + this.#bytesAt(index) <= query.maxBytes);
    if (query.after !== undefined) {
      // Oldest first from `low`; a `low` older than memory means the start of the page is not here.
      let seq = Math.max(low, first);
      for (; seq <= high && fits(seq - first); seq++) {
        bytes += this.#bytesAt(seq - first);
        msgs.push(this.#at(seq - first));
      }
      return { msgs, more: seq <= high, reachesPast: low < first };
    }
    let seq = high;
    for (; seq >= Math.max(low, first) && fits(seq - first); seq--) {
      bytes += this.#bytesAt(seq - first);
      msgs.push(this.#at(seq - first));
    }
    msgs.reverse();
    // Ran into the oldest held message with room left on the page, while older seqs were asked for.
    const stoppedAtOldest = msgs.length < query.limit && seq >= low && seq < first;
    return { msgs, more: seq >= Math.max(low, first), reachesPast: stoppedAtOldest };
  }

  /**
   * The seq of the newest held message sent at or before `ts` (ms), for
   * time-based references (IRC CHATHISTORY `timestamp=`): messages with a
   * greater seq were sent after `ts`. Below the oldest held message it is the
   * seq before that one (exact unless older messages live only in a store).
   * Timestamps are assumed to grow with seq (the hub stamps them in order);
   * a binary search, O(log n).
   */
  lastSeqAtOrBefore(ts: number): number {
    let low = 0;
    let high = this.size; // answer: the count of held messages with ts <= `ts`, found by bisection
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#at(mid).ts <= ts) low = mid + 1;
      else high = mid;
    }
    return this.firstSeq - 1 + low;
  }

  /** The send time of held message `seq`; undefined when it is not held. */
  tsOf(seq: number): number | undefined {
    const index = seq - this.firstSeq;
    return index >= 0 && index < this.size ? this.#at(index).ts : undefined;
  }

  #at(index: number): MsgFrame {
    return this.#msgs[this.#head + index];
  }

  #bytesAt(index: number): number {
    return this.#bytes[this.#head + index];
  }

  #slice(from: number, to: number): MsgFrame[] {
    return this.#msgs.slice(this.#head + from, this.#head + to);
  }

  /** Takes the oldest message out; returns its bytes. */
  #dropOldest(): number {
    if (this.size === 0) return 0;
    const bytes = this.#bytes[this.#head];
    this.#msgs[this.#head] = undefined as unknown as MsgFrame; // let the message be collected now
    this.#head++;
    this.#heldBytes -= bytes;
    if (this.size === 0) {
      this.#msgs = [];
      this.#bytes = [];
      this.#head = 0;
    } else if (this.#head >= 32 && this.#head * 2 >= this.#msgs.length) {
      // Half the array is dropped slots: compact (each message moves O(1) times on average).
      this.#msgs = this.#msgs.slice(this.#head);
      this.#bytes = this.#bytes.slice(this.#head);
      this.#head = 0;
    }
    return bytes;
  }

  #release(bytes: number): void {
    if (bytes > 0 || this.size === 0) this.#budget?.removed(this, bytes);
  }
}
