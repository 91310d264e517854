/**
 * The browser client's state, as plain data with no DOM: conversations
 * (rooms and direct messages), their messages, unread counts and members
 * with presence. The page renders from it; unit tests drive it directly.
 *
 * @module
 */
import type { MsgFrame, ServerFrame } from "../protocol/server_frames.ts";

type FrameOf<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

/** How many lines a conversation keeps; older ones are dropped (memory stays bounded). */
export const MAX_LINES = 500;

/** One line of a conversation: a message, an action (`/me`) or an event. */
export interface Line {
  kind: "msg" | "action" | "event";
  /** ms since epoch. */
  ts: number;
  from?: string;
  text: string;
  /** The room seq, for messages. */
  seq?: number;
}

/** A member of a room, with presence. */
export interface Member {
  nick: string;
  status: "online" | "away";
  note?: string;
}

/** A room (`#name`) or a direct conversation (`@nick`). */
export interface Conversation {
  key: string;
  kind: "room" | "dm";
  name: string;
  lines: Line[];
  /** Lines ever added (the view appends what it has not shown yet). */
  added: number;
  unread: number;
  /** Rooms only, by nick: in a crowded room only those the server listed. */
  members: Map<string, Member>;
  /** Rooms only: how many members the room has (more than `members` holds in a crowded room). */
  memberCount?: number;
}

/** The key of a room's conversation. */
export const roomKey = (room: string): string => `#${room}`;
/** The key of a direct conversation with `nick`. */
export const dmKey = (nick: string): string => `@${nick}`;

/** Keeps a room's member count in step with a join or leave it was told one by one (never below those listed). */
function countMember(room: Conversation, delta: number): void {
  if (room.memberCount !== undefined) room.memberCount = Math.max(room.members.size, room.memberCount + delta);
}

/** The whole client state. */
export class ChatModel {
  /** The signed-in nick. */
  nick = "";
  readonly conversations = new Map<string, Conversation>();
  /** The conversation on screen. */
  current: string | null = null;

  /** The conversation for `key`, made when missing. */
  open(key: string): Conversation {
    let conversation = this.conversations.get(key);
    if (!conversation) {
      const kind = key.startsWith("#") ? "room" : "dm";
      conversation = { key, kind, name: key.slice(1), lines: [], added: 0, unread: 0, members: new Map() };
      this.conversations.set(key, conversation);
      this.current ??= key;
    }
    return conversation;
  }

  /** Shows `key`; its unread count goes to zero. */
  select(key: string): void {
    if (!this.conversations.has(key)) return;
    this.current = key;
    this.conversations.get(key)!.unread = 0;
  }

  /** A line for `conversation`; unread counts only when it is not on screen. */
  #add(conversation: Conversation, line: Line, counts: boolean): void {
    conversation.lines.push(line);
    conversation.added++;
    if (conversation.lines.length > MAX_LINES) conversation.lines.splice(0, conversation.lines.length - MAX_LINES);
    if (counts && this.current !== conversation.key) conversation.unread++;
  }

  /** A room snapshot: the room exists, with these members (presence comes from `who`). */
  onRoom(frame: FrameOf<"room">): void {
    const room = this.open(roomKey(frame.room));
    const before = room.members;
    room.members = new Map(frame.members.map((nick) => [nick, before.get(nick) ?? { nick, status: "online" }]));
    room.memberCount = frame.member_count;
  }

  /** A crowded room's summary instead of one join or leave per member: the count, and one line. */
  onCrowd(frame: FrameOf<"crowd">, ts: number): void {
    const room = this.conversations.get(roomKey(frame.room));
    if (!room) return;
    room.memberCount = frame.member_count;
    const changes = [frame.joined > 0 ? `${frame.joined} joined` : "", frame.left > 0 ? `${frame.left} left` : ""].filter(Boolean);
    if (changes.length > 0) this.#add(room, { kind: "event", ts, text: `${changes.join(", ")} (${frame.member_count} here)` }, false);
  }

  /** Statuses of a room's members. */
  onWho(frame: FrameOf<"who">): void {
    const room = this.conversations.get(roomKey(frame.room));
    if (!room) return;
    room.members = new Map(frame.users.map((u) => [u.nick, { nick: u.nick, status: u.status, note: u.note }]));
  }

  /** A room message (the client library has already dropped duplicates and put them in order). */
  onMsg(msg: MsgFrame): void {
    const room = this.open(roomKey(msg.room));
    const action = msg.text.startsWith("/me ");
    this.#add(room, {
      kind: action ? "action" : "msg",
      ts: msg.ts,
      from: msg.from,
      text: action ? msg.text.slice(4) : msg.text,
      seq: msg.seq,
    }, msg.from !== this.nick);
  }

  /** A direct message, sent or received. */
  onDm(dm: FrameOf<"dm">): void {
    const other = dm.from === this.nick ? dm.to : dm.from;
    const action = dm.text.startsWith("/me ");
    this.#add(this.open(dmKey(other)), {
      kind: action ? "action" : "msg",
      ts: dm.ts,
      from: dm.from,
      text: action ? dm.text.slice(4) : dm.text,
    }, dm.from !== this.nick);
  }

  /** Someone joined a room. */
  onJoin(frame: FrameOf<"join">, now: number): void {
    const room = this.open(roomKey(frame.room));
    if (!room.members.has(frame.nick)) {
      room.members.set(frame.nick, { nick: frame.nick, status: "online" });
      countMember(room, +1);
    }
    if (frame.nick !== this.nick) this.#add(room, { kind: "event", ts: now, text: `${frame.nick} joined` }, false);
  }

  /** Someone left a room (not us: that is `left`). */
  onLeave(frame: FrameOf<"leave">, now: number): void {
    const room = this.conversations.get(roomKey(frame.room));
    if (!room) return;
    if (room.members.delete(frame.nick)) countMember(room, -1);
    const why = frame.reason === "left" ? "" : ` (${frame.reason})`;
    this.#add(room, { kind: "event", ts: now, text: `${frame.nick} left${why}` }, false);
  }

  /** We left a room (or closed a direct conversation): it goes away. */
  close(key: string): void {
    this.conversations.delete(key);
    if (this.current === key) this.current = this.conversations.keys().next().value ?? null;
  }

  /** Presence: shown in the members of every room the user is in, and as a line there. */
  onPresence(frame: FrameOf<"presence">, now: number): void {
    for (const room of this.conversations.values()) {
      const member = room.members.get(frame.nick);
      if (!member) continue;
      if (frame.status === "offline") {
        room.members.delete(frame.nick);
        countMember(room, -1);
        continue;
      }
      member.status = frame.status;
      member.note = frame.note;
      const text = frame.status === "away"
        ? `${frame.nick} is away${frame.note ? `: ${frame.note}` : ""}`
        : `${frame.nick} is back`;
      this.#add(room, { kind: "event", ts: now, text }, false);
    }
  }

  /** A rename, in every room and direct conversation. */
  onNick(frame: FrameOf<"nick">, now: number): void {
    if (frame.old === this.nick) this.nick = frame.new;
    for (const room of this.conversations.values()) {
      const member = room.members.get(frame.old);
      if (!member) continue;
      room.members.delete(frame.old);
      room.members.set(frame.new, { ...member, nick: frame.new });
      this.#add(room, { kind: "event", ts: now, text: `${frame.old} is now ${frame.new}` }, false);
    }
  }

  /** A line from the client itself (errors, help, connection news) in the current conversation. */
  notice(text: string, now: number): void {
    const key = this.current;
    if (key === null) return;
    this.#add(this.conversations.get(key)!, { kind: "event", ts: now, text }, false);
  }

  /** Conversations in display order: rooms by name, then direct ones by name. */
  ordered(): Conversation[] {
    return [...this.conversations.values()].sort((a, b) =>
      a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "room" ? -1 : 1
    );
  }
}
