/**
 * The hub's message path: `msg` to a room (appended through the store seam,
 * then one broadcast to its members, the sender's copy with its id) and `dm`
 * to one user, with the text-length rule they share. Moved out of `hub.ts`
 * unchanged, through {@linkcode HubCore}; the hub routes the two frames here.
 * This is the path a chat server spends its time on (issue 15): keep it free
 * of per-message closures, lookups and checks that a room without them does
 * not need.
 *
 * @module
 */
import type { ClientFrameOf } from "../protocol/client_frames.ts";
import { errorFrame, type MsgFrame, type ServerFrame, withId } from "../protocol/server_frames.ts";
import { nickKey } from "../protocol/names.ts";
import { StoreUnavailable, whenReady } from "../store/types.ts";
import type { HubCore } from "./hub_services.ts";
import type { Room } from "./room.ts";
import type { Session } from "./session.ts";

/** Handles `msg` and `dm` frames for a hub. */
export class MessageDesk<P> {
  constructor(readonly core: HubCore<P>) {}

  /** `msg`: appended through the store seam, then to every member of the room; the sender's copy carries its id. */
  msg(session: Session<P>, frame: ClientFrameOf<"msg">, now: number): void {
    const room = this.core.room(frame.room);
    if (!room || !room.members.has(session)) {
      return this.core.error(session, "not_in_room", `join ${frame.room} before sending to it`, frame.id);
    }
    if (!this.#textFits(session, frame.text, frame.id)) return;
    let stored;
    try {
      // Only a cluster reads the origin (local stores ignore it): no string per message otherwise.
      const origin = frame.id === undefined || !this.core.cluster ? undefined : `${session.id} ${frame.id}`;
      stored = this.core.services.roomLog.append(room, session.nick!, frame.text, now, origin);
    } catch (error) {
      return sendStoreError(this.core, session, error, frame.id);
    }
    // A local store answers at once: deliver without the two closures whenReady would need (issue 15).
    if (!(stored instanceof Promise)) return this.#delivered(session, room, frame, stored);
    whenReady(stored, (msg) => this.#delivered(session, room, frame, msg), (error) => sendStoreError(this.core, session, error, frame.id));
  }

  /** A message the store has appended goes out: to the room, and with its id back to the sender. */
  #delivered(session: Session<P>, room: Room<P>, frame: ClientFrameOf<"msg">, msg: MsgFrame): void {
    // Cluster: every node delivers in the store's order; this copy goes out now only if it is the next one.
    if (this.core.cluster) return this.core.cluster.appended(msg, frame.id === undefined ? undefined : `${session.id} ${frame.id}`);
    room.record(msg);
    if (frame.id === undefined) {
      this.core.sink.broadcast(room.members, msg);
    } else {
      this.core.sink.broadcast(room.members, msg, session);
      this.core.sink.send(session, withId(msg, frame.id));
    }
  }

  /** `dm`: to one user, here or (in a cluster) on another node; the sender's copy carries its id. */
  dm(session: Session<P>, frame: ClientFrameOf<"dm">, now: number): void {
    const target = this.core.sessionByNick(frame.to);
    if (!target && this.core.cluster) {
      if (!this.#textFits(session, frame.text, frame.id)) return;
      const dm: ServerFrame = { type: "dm", from: session.nick!, to: frame.to, text: frame.text, ts: now };
      return void this.core.cluster.sendDm(nickKey(frame.to), dm).then((sent) => {
        if (!sent) return this.core.error(session, "no_such_user", `${frame.to} is not connected`, frame.id);
        this.core.sink.send(session, withId(dm, frame.id));
      }, (error) => sendStoreError(this.core, session, error, frame.id));
    }
    if (!target) return this.core.error(session, "no_such_user", `${frame.to} is not connected`, frame.id);
    if (!this.#textFits(session, frame.text, frame.id)) return;
    const dm: ServerFrame = { type: "dm", from: session.nick!, to: target.nick!, text: frame.text, ts: now };
    if (target !== session) this.core.sink.send(target, dm);
    this.core.sink.send(session, withId(dm, frame.id));
  }

  /** Checks max_text in code points (a UTF-16 length within the bound needs no count). */
  #textFits(session: Session<P>, text: string, id: string | undefined): boolean {
    const max = this.core.settings.max_text;
    if (text.length <= max) return true;
    let count = 0;
    for (const _ of text) if (++count > max) break;
    if (count <= max) return true;
    this.core.error(session, "text_too_long", `text has more than ${max} characters`, id);
    return false;
  }
}

/** The store could not answer: the frame gets `unavailable`, never an ack. */
export function sendStoreError<P>(core: HubCore<P>, session: Session<P>, error: unknown, id: string | undefined): void {
  const retryAfterMs = error instanceof StoreUnavailable ? error.retryAfterMs : 1000;
  const message = error instanceof StoreUnavailable ? error.message : "the server cannot reach its store right now";
  core.sink.send(session, errorFrame("unavailable", message, { id, retry_after_ms: retryAfterMs }));
}
