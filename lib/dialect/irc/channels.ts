/**
 * Channels and rooms: `#lobby` is room `lobby`. IRC channel names are
 * case-insensitive and tcpchat room names are lower case, so a channel name
 * is folded to lower case (ASCII) before it becomes a room name; the channel
 * is always shown as `#` plus the room name.
 *
 * @module
 */
import { roomName } from "../../protocol/names.ts";

/** Longest channel name, `#` included. */
export const MAX_CHANNEL_LENGTH = 65;

/** Result of reading a channel name: a room, or why not (`no_such` when it is not a `#` name at all). */
export type ChannelLookup = { room: string } | { problem: "no_such" | "bad_mask" };

/** Maps `#Name` to room `name`; a name without `#` is no channel, a `#` name with other characters a bad mask. */
export function channelToRoom(channel: string): ChannelLookup {
  if (!channel.startsWith("#")) return { problem: "no_such" };
  const room = roomName(channel.slice(1).toLowerCase());
  // roomName accepts one leading # of its own; `##x` must not become `x`.
  if (room === undefined || channel.startsWith("##")) return { problem: "bad_mask" };
  return { room };
}

/** The channel a room is shown as. */
export function roomToChannel(room: string): string {
  return `#${room}`;
}
