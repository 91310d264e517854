/**
 * The crowd rule (PROTOCOL section 15) as pure logic: when a room is too big
 * for one event per arrival per member, and the summaries that replace those
 * events. Telling n members about each of n arrivals is O(n²) frames; with
 * the rule a crowded room costs each member at most one `crowd` frame per
 * `crowd_interval`, whatever the churn.
 *
 * The hub owns no timers: it records arrivals and departures here as they
 * happen, and the server's periodic sweep calls {@linkcode CrowdSummaries.due}
 * with the time, so tests drive it with a fake clock.
 *
 * @module
 */
import type { CrowdFrame } from "../protocol/server_frames.ts";

/**
 * Whether joins and leaves in a room are summarised rather than sent one by
 * one. `size` counts the member concerned (the room after a join, before a
 * leave), so the rule is the same both ways across the threshold.
 */
export function isCrowded(size: number, crowdSize: number): boolean {
  return size > crowdSize;
}

/** What a room must offer to be summarised. */
export interface CrowdRoom {
  readonly name: string;
  readonly members: { readonly size: number };
}

/** Arrivals and departures not yet told, and when the room's last summary went out. */
interface Tally {
  joined: number;
  left: number;
  sentAt: number;
}

/** A summary to send to every member of `room`. */
export interface DueSummary<R> {
  room: R;
  frame: CrowdFrame;
}

/** Pending crowd summaries, one tally per room with recent arrivals or departures. */
export class CrowdSummaries<R extends CrowdRoom> {
  /** Only rooms that changed recently are here, so a tick costs nothing for quiet rooms. */
  readonly #tallies = new Map<R, Tally>();

  /** Rooms with a tally (pending counts, or a summary sent less than an interval ago). */
  get size(): number {
    return this.#tallies.size;
  }

  /** Counts one arrival or departure that was not announced one by one. */
  record(room: R, kind: "joined" | "left"): void {
    let tally = this.#tallies.get(room);
    if (tally === undefined) {
      // Never summarised (or not for an interval): the first summary may go at the next tick.
      tally = { joined: 0, left: 0, sentAt: -Infinity };
      this.#tallies.set(room, tally);
    }
    tally[kind]++;
  }

  /**
   * The summaries due at `now`: one per room with untold arrivals or
   * departures whose last summary is at least `intervalMs` old. Rooms quiet
   * for an interval are forgotten.
   */
  due(now: number, intervalMs: number): DueSummary<R>[] {
    const out: DueSummary<R>[] = [];
    for (const [room, tally] of this.#tallies) {
      if (now - tally.sentAt < intervalMs) continue;
      if ((tally.joined === 0 && tally.left === 0) || room.members.size === 0) {
        this.#tallies.delete(room);
        continue;
      }
      out.push({
        room,
        frame: { type: "crowd", room: room.name, joined: tally.joined, left: tally.left, member_count: room.members.size },
      });
      tally.joined = 0;
      tally.left = 0;
      tally.sentAt = now;
    }
    return out;
  }

  /** Forgets every tally (shutdown). */
  clear(): void {
    this.#tallies.clear();
  }
}
