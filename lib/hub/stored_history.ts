/**
 * History pages from the store: the {@linkcode HistorySource} a hub with a
 * data directory pages from once a page reaches below what memory holds (the
 * memory budget evicted it, or the server restarted).
 *
 * The store answers by count only; this asks it for one message more than
 * the page may hold, so it knows whether more follow, then applies the
 * page's byte cap from the end the page is anchored at.
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";
import type { RoomLog } from "../store/types.ts";
import type { HistorySource } from "./history_paging.ts";
import type { HistoryPage, PageQuery } from "./room_history.ts";
import { msgBytes } from "./msg_bytes.ts";

/**
 * A history source over `log`. A store that cannot read answers with a
 * rejected promise, which the paging code answers from memory.
 *
 * @example
 * ```ts
 * hub.historySource = storedHistory(sqliteStore);
 * ```
 */
export function storedHistory(log: RoomLog): HistorySource {
  return {
    page(room: string, query: PageQuery): HistoryPage | Promise<HistoryPage> {
      const asked = { before: query.before, after: query.after, limit: query.limit + 1 };
      try {
        const rows = log.page(room, asked);
        return rows instanceof Promise ? rows.then((msgs) => cut(msgs, query)) : cut(rows, query);
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

/** Trims `msgs` (ascending, up to limit + 1) to the page `query` allows, saying whether more follow. */
function cut(msgs: MsgFrame[], query: PageQuery): HistoryPage {
  // With `after` the page is the oldest matching messages: keep from the front. Otherwise the newest: from the back.
  const fromFront = query.after !== undefined;
  const ordered = fromFront ? msgs : [...msgs].reverse();
  const kept: MsgFrame[] = [];
  let bytes = 0;
  for (const msg of ordered) {
    if (kept.length === query.limit) break;
    const size = msgBytes(msg);
    if (kept.length > 0 && bytes + size > query.maxBytes) break;
    kept.push(msg);
    bytes += size;
  }
  const more = kept.length < msgs.length;
  return { msgs: fromFront ? kept : kept.reverse(), more };
}
