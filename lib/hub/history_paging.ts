/**
 * History paging: the `history` frame's answer (PROTOCOL section 10) and the
 * part of a `room` snapshot that is history (section 16), both cut into pieces
 * a client can take.
 *
 * Every answer is capped by bytes as well as by count, at
 * {@linkcode pageByteCap}: at most `snapshot_bytes`, and at most half of
 * `max_pending`, so one page always fits a reader's outbound queue with room
 * to spare for live traffic. A page never stops short of one message (a
 * message is at most `max_text` characters, far below `max_pending`).
 *
 * Memory answers when it can. A page that reaches below the oldest message
 * the ring holds (the memory budget evicted it, or the server restarted on a
 * data directory) goes to a {@linkcode HistorySource}, when the server has
 * one; without one, memory's answer is the whole truth.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { MsgFrame, ServerFrame } from "../protocol/server_frames.ts";
import type { HistoryPage, PageQuery, RoomHistory } from "./room_history.ts";

export type { HistoryPage, PageQuery } from "./room_history.ts";

/**
 * Where pages that memory no longer holds come from: the store, with a data
 * directory. It may answer at once (SQLite) or after a round trip (a network
 * store); a rejected promise is answered from memory.
 *
 * @example
 * ```ts
 * hub.historySource = {
 *   page: (room, query) => store.historyPage(room, query), // same rules as RoomHistory.page
 * };
 * ```
 */
export interface HistorySource {
  /**
   * The page `query` selects among the kept messages of `room`, by the rules
   * of {@linkcode PageQuery}: with `after`, the oldest messages with a greater
   * seq (and below `before` if given); otherwise the newest with a smaller seq
   * than `before` (or the newest of all); ascending seq, at most `limit`
   * messages and `maxBytes` bytes (never fewer than one message if any
   * match); `more` when further matching messages remain in the paging direction.
   */
  page(room: string, query: PageQuery): HistoryPage | Promise<HistoryPage>;
}

/** The settings paging reads. */
export type PagingSettings = Pick<Settings, "snapshot_bytes" | "max_pending" | "history_on_join">;

/** A room as paging sees it. */
export interface PagedRoom {
  readonly name: string;
  readonly epoch: string;
  readonly seq: number;
  readonly history: RoomHistory;
}

/**
 * The most messages a snapshot asks a store for (its byte cap usually binds first); the client pages the rest.
 */
const SNAPSHOT_STORE_LIMIT = 1000;

/** Messages per `history` page when the frame names no `limit`. */
export const DEFAULT_PAGE_LIMIT = 50;

/** Bytes of history in one snapshot or page: `snapshot_bytes`, but never more than half of `max_pending`. */
export function pageByteCap(settings: PagingSettings): number {
  return Math.max(1, Math.min(settings.snapshot_bytes, Math.floor(settings.max_pending / 2)));
}

/** A room's history source, for a snapshot that memory cannot fill. */
export interface SnapshotSource {
  room: string;
  source: HistorySource;
}

/**
 * The history part of a `room` snapshot. With `since`, the oldest kept
 * messages after it up to the byte cap, and `more` when the rest must be
 * fetched with `history` `after`; when memory does not reach back to `since`,
 * they come from the source if it answers at once (SQLite), else the
 * snapshot carries no history and `more`, so the client pages it all (the
 * join never waits for a store across the network). Without
 * `since`, the newest `history_on_join` messages that fit the cap (older ones
 * are for `history` `before`; nothing follows, so no `more`): from the source
 * when memory holds fewer (after a restart on a data directory) and the
 * source answers at once, else what memory holds.
 */
export function snapshotHistory(
  history: RoomHistory,
  since: number | undefined,
  settings: PagingSettings,
  from: SnapshotSource | null,
): { history: MsgFrame[]; more: boolean } {
  const maxBytes = pageByteCap(settings);
  if (since === undefined) {
    const query = { limit: settings.history_on_join, maxBytes };
    const memory = history.page(query);
    if (!memory.reachesPast || memory.msgs.length >= query.limit || from === null) return { history: memory.msgs, more: false };
    const stored = from.source.page(from.room, query);
    if (!(stored instanceof Promise)) return { history: stored.msgs, more: false };
    // A store across the network would make the join wait: the snapshot says what memory has.
    stored.catch(() => {});
    return { history: memory.msgs, more: false };
  }
  const page = history.page({ after: since, limit: Infinity, maxBytes });
  if (!page.reachesPast || from === null) return { history: page.msgs, more: page.more };
  const stored = from.source.page(from.room, { after: since, limit: SNAPSHOT_STORE_LIMIT, maxBytes });
  if (!(stored instanceof Promise)) return { history: stored.msgs, more: stored.more };
  stored.catch(() => {});
  return { history: [], more: true };
}

/** What a `history` frame asks (already validated by its schema). */
export interface HistoryRequest {
  before?: number;
  after?: number;
  limit?: number;
}

/**
 * Answers a `history` request for a member of `room`: from memory, or from
 * `source` when memory does not reach far enough back. `reply` is called
 * once, at once or (with an asynchronous source) later.
 */
export function answerHistory(
  room: PagedRoom,
  request: HistoryRequest,
  settings: PagingSettings,
  source: HistorySource | null,
  reply: (frame: ServerFrame) => void,
): void {
  const query: PageQuery = { limit: request.limit ?? DEFAULT_PAGE_LIMIT, maxBytes: pageByteCap(settings) };
  if (request.after !== undefined) query.after = request.after;
  if (request.before !== undefined) query.before = request.before;
  const memory = room.history.page(query);
  const send = (page: HistoryPage) =>
    reply({ type: "history", room: room.name, epoch: room.epoch, seq: room.seq, msgs: page.msgs, more: page.more });
  if (!memory.reachesPast || source === null) return send(memory);
  const stored = source.page(room.name, query);
  if (stored instanceof Promise) stored.then(send, () => send(memory));
  else send(stored);
}
