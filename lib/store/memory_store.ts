/**
 * The memory store: today's behaviour. Seq and epoch live in the hub's rooms
 * and messages in its recent-message ring, so this store has nothing to keep:
 * appending is building the frame, and nothing survives the process.
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";
import type { PageQuery, RoomLog, StoredRoom } from "./types.ts";

/** A {@linkcode RoomLog} that keeps nothing beyond what the hub holds in memory. */
export class MemoryStore implements RoomLog {
  readonly durable = false;

  /** Nothing was kept from before. */
  rooms(_limit: number): StoredRoom[] {
    return [];
  }

  /** The message with the room's next seq; nothing to write. */
  append(room: StoredRoom, from: string, text: string, ts: number): MsgFrame {
    return { type: "msg", room: room.name, from, text, seq: room.seq + 1, ts };
  }

  /** Nothing older than the hub's ring. */
  page(_room: string, _query: PageQuery): MsgFrame[] {
    return [];
  }

  /** Nothing to delete. */
  forget(_room: string): void {}

  /** Always done. */
  flush(): boolean {
    return true;
  }

  /** Nothing to release. */
  close(): void {}
}
