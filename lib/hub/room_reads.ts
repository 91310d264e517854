/**
 * Which kept messages a join snapshot carries, and where they come from: the
 * room's in-memory ring when it reaches back far enough, else the store
 * (with a data directory, memory holds only a room's most recent messages;
 * the rest are in the database).
 *
 * @module
 */
import type { HubSettings } from "./hub.ts";
import type { MsgFrame } from "../protocol/server_frames.ts";
import type { Awaitable, RoomLog } from "../store/types.ts";
import type { Room } from "./room.ts";

/** With a durable store, how many of a room's newest messages stay in memory at most. */
export const DURABLE_RING_MESSAGES = 64;

/** The in-memory ring's capacity for this store: all kept history without a durable store. */
export function ringCapacity(settings: Pick<HubSettings, "history">, store: RoomLog): number {
  return store.durable ? Math.min(settings.history, DURABLE_RING_MESSAGES) : settings.history;
}

/**
 * The messages for a join snapshot: with `since`, every kept message after
 * it (all kept ones when `since` is past the room's seq, i.e. from before a
 * restart of a memory-only server); without, the last `history_on_join`.
 */
export function snapshotHistory(
  room: Room<unknown>,
  since: number | undefined,
  settings: Pick<HubSettings, "history" | "history_on_join">,
  store: RoomLog,
): Awaitable<MsgFrame[]> {
  const kept = Math.min(room.seq, settings.history);
  const from = since === undefined
    ? room.seq - Math.min(settings.history_on_join, kept) + 1
    : Math.max(room.seq - kept + 1, (since > room.seq ? 0 : since) + 1);
  if (from > room.seq) return [];
  // The ring holds consecutive seqs ending at room.seq.
  const ringFrom = room.seq - room.history.size + 1;
  if (from >= ringFrom || !store.durable) return room.history.after(from - 1);
  return store.page(room.name, { after: from - 1, limit: room.seq - from + 1 });
}
