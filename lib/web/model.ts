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
/** How far scrollback may grow a room's lines past {@linkcode MAX_LINES} (still bounded). */
export const MAX_SCROLLBACK_LINES = 5000;

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
  /** A room operator (shown with `@`). */
  op?: boolean;
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
  /** Rooms only: the topic (user text: shown only as text). */
  topic?: string;
  /** Rooms only: we were kicked, banned or killed out of it; it stays on screen until closed. */
  gone?: boolean;
  /** Lines ever put before the first (scrollback); the view redraws when it changes. */
  prepended?: number;
  /** Scrollback reached the start of what the server keeps. */
  historyDone?: boolean;
  /** How many lines this conversation may keep (grows with scrollback, up to MAX_SCROLLBACK_LINES). */
  limit?: number;
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
    const limit = conversation.limit ?? MAX_LINES;
    if (conversation.lines.length > limit) {
      conversation.lines.splice(0, conversation.lines.length - limit);
      // What was dropped can be fetched again by scrolling up.
      conversation.historyDone = false;
    }
    if (counts && this.current !== conversation.key) conversation.unread++;
  }

  /** A room snapshot: the room exists, with these members (presence comes from `who`). */
  onRoom(frame: FrameOf<"room">): void {
    const room = this.open(roomKey(frame.room));
    const before = room.members;
    room.members = new Map(frame.members.map((nick) => [nick, before.get(nick) ?? { nick, status: "online" }]));
    room.memberCount = frame.member_count;
    room.topic = frame.topic ?? "";
    room.gone = false;
    // A room with no messages yet has nothing earlier to page in.
    if (frame.seq === 0) room.historyDone = true;
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
    room.members = new Map(frame.users.map((u) => [u.nick, { nick: u.nick, status: u.status, note: u.note, op: u.op === true }]));
  }

  /** A room message (the client library has already dropped duplicates and put them in order). */
  onMsg(msg: MsgFrame): void {
    const room = this.open(roomKey(msg.room));
    // Seqs start at 1: with the first message on screen there is nothing earlier.
    if (msg.seq === 1 && room.lines.every((line) => line.seq === undefined)) room.historyDone = true;
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
    const you = frame.nick === this.nick;
    if (you) room.gone = true;
    const by = frame.by ? ` by ${frame.by}` : "";
    const note = frame.note ? `: ${frame.note}` : "";
    let text: string;
    if (frame.reason === "kicked" || frame.reason === "banned" || frame.reason === "killed") {
      const what = frame.reason === "killed" ? "disconnected by a server operator" : `${frame.reason}${by}`;
      text = you ? `You were ${what}${note}` : `${frame.nick} was ${what}${note}`;
    } else {
      text = `${frame.nick} left${frame.reason === "left" ? "" : ` (${frame.reason})`}`;
    }
    this.#add(room, { kind: "event", ts: now, text }, you);
  }

  /** A room's topic was set: shown in the header and as a line. */
  onTopic(frame: FrameOf<"topic">): void {
    const room = this.conversations.get(roomKey(frame.room));
    if (!room) return;
    room.topic = frame.topic;
    const text = frame.topic === "" ? `${frame.by} cleared the topic` : `${frame.by} set the topic: ${frame.topic}`;
    this.#add(room, { kind: "event", ts: frame.ts, text }, false);
  }

  /** A room's modes changed. */
  onMode(frame: FrameOf<"mode">, now: number): void {
    const room = this.conversations.get(roomKey(frame.room));
    if (!room) return;
    const m = frame.modes;
    const text = `${frame.by} set modes: ${m.invite_only ? "invite only" : "open"}, ${m.key ? "key needed" : "no key"}, ` +
      `topic ${m.topic_lock ? "locked to operators" : "open to all"}`;
    this.#add(room, { kind: "event", ts: now, text }, false);
  }

  /** Someone was made or unmade an operator. */
  onRole(frame: FrameOf<"role">, now: number): void {
    const room = this.conversations.get(roomKey(frame.room));
    if (!room) return;
    const member = room.members.get(frame.nick);
    if (member) member.op = frame.op;
    const text = frame.op ? `${frame.by} made ${frame.nick} an operator` : `${frame.by} took operator from ${frame.nick}`;
    this.#add(room, { kind: "event", ts: now, text }, false);
  }

  /** Whether we are an operator of `room` (as last listed). */
  isOp(key: string): boolean {
    return this.conversations.get(key)?.members.get(this.nick)?.op === true;
  }

  /** The seq `history` `before` should name to fetch the page before what is shown (undefined: the newest). */
  oldestSeq(key: string): number | undefined {
    return this.conversations.get(key)?.lines.find((line) => line.seq !== undefined)?.seq;
  }

  /**
   * A page of earlier messages (from `history` `before`): those older than
   * the oldest shown go first, in order; a page with nothing more before it
   * marks the start of what the server keeps. Returns how many were added.
   */
  onEarlier(room: string, msgs: MsgFrame[], more: boolean): number {
    const conversation = this.conversations.get(roomKey(room));
    if (!conversation) return 0;
    const oldest = this.oldestSeq(conversation.key);
    const shown = new Set(conversation.lines.map((line) => line.seq));
    const earlier = msgs.filter((msg) => (oldest === undefined ? !shown.has(msg.seq) : msg.seq < oldest))
      .sort((a, b) => a.seq - b.seq);
    const lines: Line[] = earlier.map((msg) => {
      const action = msg.text.startsWith("/me ");
      return { kind: action ? "action" : "msg", ts: msg.ts, from: msg.from, text: action ? msg.text.slice(4) : msg.text, seq: msg.seq };
    });
    conversation.limit = Math.min(MAX_SCROLLBACK_LINES, Math.max(conversation.limit ?? MAX_LINES, conversation.lines.length + lines.length));
    const space = conversation.limit - conversation.lines.length;
    const kept = lines.slice(Math.max(0, lines.length - space));
    conversation.lines.unshift(...kept);
    conversation.prepended = (conversation.prepended ?? 0) + kept.length;
    if (!more || earlier.length === 0) conversation.historyDone = true;
    return kept.length;
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
