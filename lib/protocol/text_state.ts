/**
 * What a text connection learns from the frames it is sent: topics of its
 * rooms (for `/topic` without text), and when the server asks for an
 * account's password (so the next line is taken as that password).
 *
 * @module
 */
import type { ServerFrame } from "./server_frames.ts";
import type { TextState } from "./text_commands.ts";

/**
 * Updates `state` from a frame about to be shown to the text user `self`.
 * Returns `"password"` when the next line is now a password (the caller
 * turns off the telnet echo).
 */
export function noteTextFrame(state: TextState, frame: ServerFrame, self: string | null): "password" | null {
  switch (frame.type) {
    case "room":
      (state.topics ??= new Map()).set(frame.room, frame.topic ?? "");
      return null;
    case "topic":
      state.topics?.set(frame.room, frame.topic);
      return null;
    case "left":
      state.topics?.delete(frame.room);
      return null;
    case "leave":
      if (frame.nick === self) state.topics?.delete(frame.room);
      return null;
    case "error":
      if (frame.code !== "nick_reserved" || state.registered || !state.pendingNick) return null;
      state.passwordFor = state.pendingNick;
      return "password";
    default:
      return null;
  }
}

/** The line `/topic` without text shows for `room`. */
export function topicLine(state: TextState, room: string): string {
  const topic = state.topics?.get(room) ?? "";
  return topic === "" ? `* #${room} has no topic` : `* Topic of #${room}: ${topic}`;
}
