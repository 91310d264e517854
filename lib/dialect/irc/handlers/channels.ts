/**
 * Channel commands: JOIN, PART, NAMES, LIST, TOPIC. A channel is a room
 * (`#lobby` is room `lobby`); see channels.ts for the name rules.
 *
 * @module
 */
import { channelToRoom, roomToChannel } from "../channels.ts";
import type { IrcMessage } from "../message.ts";
import { N } from "../numerics.ts";
import type { IrcSession } from "../session.ts";

/**
 * The room for a channel name, or null after the error numeric was sent:
 * ERR_NOSUCHCHANNEL for a name without `#`, ERR_BADCHANMASK for a `#` name
 * with characters or a length rooms cannot have.
 */
export function roomFor(s: IrcSession, channel: string): string | null {
  const lookup = channelToRoom(channel);
  if ("room" in lookup) return lookup.room;
  if (lookup.problem === "no_such") s.reply(N.ERR_NOSUCHCHANNEL, channel, "No such channel");
  else s.reply(N.ERR_BADCHANMASK, channel, "Bad Channel Mask: 1-64 of a-z 0-9 _ - . after #");
  return null;
}

/** JOIN #a,#b [key1,key2], or JOIN 0 to leave every channel. */
export function join(s: IrcSession, m: IrcMessage): void {
  const keys = m.params[1]?.split(",") ?? [];
  if (m.params[0] === "0") {
    for (const room of [...s.host.session.rooms]) s.submit({ type: "leave", room: room.name }, roomToChannel(room.name));
    return;
  }
  m.params[0].split(",").forEach((channel, i) => {
    if (channel === "") return;
    const room = roomFor(s, channel);
    const key = keys[i];
    if (room !== null) s.submit(key ? { type: "join", room, key } : { type: "join", room }, channel);
  });
}

/** PART #a,#b [reason] (the reason is not passed on: the hub's leave carries none). */
export function part(s: IrcSession, m: IrcMessage): void {
  for (const channel of m.params[0].split(",")) {
    if (channel === "") continue;
    const room = roomFor(s, channel);
    if (room === null) continue;
    if (!s.joined.has(room)) {
      s.reply(s.host.lookup.hasRoom(room) ? N.ERR_NOTONCHANNEL : N.ERR_NOSUCHCHANNEL, channel, s.host.lookup.hasRoom(room) ? "You're not on that channel" : "No such channel");
      continue;
    }
    s.submit({ type: "leave", room }, channel);
  }
}

/** NAMES #chan: through the hub's `who`; NAMES without a channel lists nothing (as many servers do). */
export function names(s: IrcSession, m: IrcMessage): void {
  const channel = m.params[0]?.split(",")[0];
  if (!channel) return s.reply(N.RPL_ENDOFNAMES, "*", "End of /NAMES list");
  const lookup = channelToRoom(channel);
  if (!("room" in lookup)) return s.reply(N.RPL_ENDOFNAMES, channel, "End of /NAMES list");
  s.submit({ type: "who", room: lookup.room }, channel);
}

/** LIST [#a,#b]: every room (there are no secret channels), through the hub's `rooms`. */
export function list(s: IrcSession, m: IrcMessage): void {
  s.submit({ type: "rooms" }, m.params[0]);
}

/** TOPIC #chan: the topic (RPL_TOPIC) or RPL_NOTOPIC; TOPIC #chan :text sets it through the hub's `topic`. */
export function topic(s: IrcSession, m: IrcMessage): void {
  const channel = m.params[0];
  const room = roomFor(s, channel);
  if (room === null) return;
  const kept = s.host.lookup.room(room);
  if (!kept) return s.reply(N.ERR_NOSUCHCHANNEL, channel, "No such channel");
  if (m.params.length >= 2) return s.submit({ type: "topic", room, topic: m.params[1] }, channel);
  const text = kept.moderation.topic?.text;
  if (text) s.reply(N.RPL_TOPIC, roomToChannel(room), text);
  else s.reply(N.RPL_NOTOPIC, roomToChannel(room), "No topic is set");
}
