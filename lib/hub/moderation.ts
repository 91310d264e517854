/**
 * Room operators and moderation (protocol section 9): who operates a room,
 * who may join it, and the handlers for `topic`, `mode`, `op`, `deop`,
 * `kick`, `ban`, `unban`, `bans`, `invite` and `kill`.
 *
 * Rules chosen where the contract is silent (docs/protocol.md lists them):
 * - acting on a room needs membership, except for server operators;
 * - nobody kicks, bans or kills themselves (`invalid`, field `nick`), and only
 *   a server operator may kick, ban or kill a server operator (`not_op`);
 * - `bans` (the list) is for operators; `invite` is for any member unless the
 *   room is invite-only, then for operators;
 * - a guest operator stops being one when it leaves the room or disconnects;
 * - server operators join past bans, invite-only and keys.
 *
 * @module
 */
import type { ClientFrameOf } from "../protocol/client_frames.ts";
import { type ErrorCode, type ServerFrame, type WhoEntry, withId } from "../protocol/server_frames.ts";
import { nickKey } from "../protocol/names.ts";
import type { RoomStateRecord } from "../store/room_state_store.ts";
import type { ClusterMember, RemoteAction, RoomStateChange } from "./hub_cluster.ts";
import type { HubCore } from "./hub_services.ts";
import type { Room } from "./room.ts";
import { RemoteModeration, remoteBanMask } from "./remote_moderation.ts";
import { banHere, guestRoleHere } from "./remote_target.ts";
import { banMask, maskKey, normalizeMask, RoomModeration } from "./room_modes.ts";
import type { Session } from "./session.ts";

/** Most invites a session holds at once; older ones are forgotten first. */
const MAX_INVITES = 64;

/** Moderation handling for one hub. */
export class ModerationDesk<P> {
  constructor(readonly hub: HubCore<P>) {}

  /** Whether `session` operates `room`: a server operator, an account operator or a guest operator. */
  isOperator(room: Room<P>, session: Session<P>): boolean {
    return this.hub.isServerOperator(session) || room.moderation.isRoomOperator(session);
  }

  /** Cluster: moderation of users on other nodes (made on first use, once the hub has joined its cluster). */
  #remoteDesk: RemoteModeration<P> | undefined;

  get #remote(): RemoteModeration<P> | undefined {
    if (!this.hub.cluster) return undefined;
    return this.#remoteDesk ??= new RemoteModeration(this.hub, this.hub.cluster);
  }

  /**
   * A room was just made: its kept state (topic, modes, operators, bans) is
   * loaded. A cluster node passes what it read (`loaded`) when it opened the room.
   */
  roomCreated(room: Room<P>, loaded?: { record: RoomStateRecord | undefined }): void {
    if (loaded) {
      room.moderation = RoomModeration.from(loaded.record);
      return;
    }
    let kept = this.#preloaded.get(room.name);
    if (!this.#preloaded.has(room.name)) {
      const read = this.hub.services.roomStates.load(room.name);
      // A store that answers later was read by `preload` before the join; this read is only a safety net.
      if (read instanceof Promise) read.catch(() => {});
      else kept = read;
    }
    room.moderation = RoomModeration.from(kept);
  }

  /**
   * `session` has just joined `room`. The first to join an
   * empty room creates it, as on IRC, and becomes its operator (by account
   * when logged in), unless the room has account operators already, or is
   * the default room (operated by the server operators).
   */
  joining(room: Room<P>, session: Session<P>, isDefaultRoom: boolean): void {
    const mod = room.moderation;
    // Called once the joiner is a member: it is the first when it is the only one.
    if (room.members.size > 1 || isDefaultRoom || mod.accountOps.size > 0) return;
    if (session.account !== null) {
      mod.accountOps.set(session.account.key, session.account.name);
      void this.hub.services.roomStates.setOperator(room.name, session.account.name, true);
    } else {
      this.#setGuestOp(room, session, true);
    }
  }

  /** Kept state fetched ahead of a room's creation, for stores that answer later. */
  readonly #preloaded = new Map<string, RoomStateRecord | undefined>();

  /**
   * Before a join that would make `room`: with a store that answers later,
   * holds the session until the room's kept state is here, then `retry`.
   * Returns true when it is holding.
   */
  preload(session: Session<P>, room: string, id: string | undefined, now: number, retry: (now: number) => void): boolean {
    // A cluster node reads the kept state when it opens the room (after subscribing, so no change is missed).
    if (this.hub.cluster || this.hub.room(room) || this.#preloaded.has(room)) return false;
    const kept = this.hub.services.roomStates.load(room);
    if (!(kept instanceof Promise)) return false;
    // The retried join takes the entry; deleting after covers a join that failed anyway (too_many_rooms).
    this.hub.defer(session, kept, now, (record, now) => {
      this.#preloaded.set(room, record);
      retry(now);
      this.#preloaded.delete(room);
    }, (error) => {
      // Making the room without its kept bans and modes would let anyone past them: refuse instead.
      this.hub.audit({ action: "room_state_error", by: session.nick ?? "-", room, reason: String((error as Error)?.message ?? error) }, session);
      this.hub.error(session, "unavailable", `#${room} cannot be loaded right now; try again later`, id);
    });
    return true;
  }

  /** Why `session` may not join `room` (null when it may); consumes an invite it uses. */
  joinRefusal(room: Room<P>, session: Session<P>, key: string | undefined): { code: ErrorCode; message: string } | null {
    if (room.members.has(session) || this.isOperator(room, session)) return null;
    const mod = room.moderation;
    if (mod.banOf(session)) return { code: "banned", message: `you are banned from #${room.name}` };
    const invited = session.invites?.has(room.name) === true;
    if (mod.modes.invite_only && !invited) return { code: "invite_only", message: `#${room.name} is invite-only` };
    if (mod.modes.key !== "" && !invited && key !== mod.modes.key) {
      return { code: "bad_key", message: `#${room.name} needs the right key` };
    }
    if (invited) session.invites!.delete(room.name);
    return null;
  }

  /** What the `room` snapshot adds: topic, account operators, modes. */
  snapshotFields(room: Room<P>): { topic: string; ops: string[]; modes: ReturnType<RoomModeration["view"]> } {
    const mod = room.moderation;
    return { topic: mod.topic?.text ?? "", ops: [...mod.accountOps.values()], modes: mod.view() };
  }

  /** What a `who` entry adds: the member's account and whether it operates the room. */
  whoFields(room: Room<P>, member: Session<P>): Pick<WhoEntry, "account" | "op"> {
    const out: Pick<WhoEntry, "account" | "op"> = {};
    if (member.account !== null) out.account = member.account.name;
    if (this.isOperator(room, member)) out.op = true;
    return out;
  }

  /**
   * Cluster: what a `who` entry adds for a member of another node: `op` when
   * its account operates the room (as this node's live copy says) or is a
   * server operator. A guest operator of another node is not marked.
   */
  remoteWhoOp(room: Room<P> | undefined, member: ClusterMember): boolean {
    const local = this.hub.sessionByNick(member.nick);
    if (room && local && room.members.has(local)) return this.isOperator(room, local);
    if (member.account === undefined) return false;
    if (room?.moderation.accountOps.has(nickKey(member.account))) return true;
    return this.#remote?.isServerOperator(member) ?? false;
  }

  /** Cluster: another node changed the kept state of `room`; the live copy here follows. */
  roomStateChanged(room: Room<P>, change: RoomStateChange): void {
    const mod = room.moderation;
    switch (change.t) {
      case "topic":
        mod.topic = change.topic;
        return;
      case "modes":
        mod.modes = { ...change.modes };
        return;
      case "op":
        if (change.op) mod.accountOps.set(nickKey(change.account), change.account);
        else mod.accountOps.delete(nickKey(change.account));
        return;
      case "ban":
        mod.bans.set(maskKey(change.ban.mask), change.ban);
        return;
      case "unban":
        mod.removeBan(change.mask);
        return;
    }
  }

  /** Cluster: the kept state of `room` as read again from the store (guest operators here stay). */
  replaceKept(room: Room<P>, record: RoomStateRecord | undefined): void {
    const fresh = RoomModeration.from<P>(record);
    for (const session of room.moderation.sessionOps) fresh.sessionOps.add(session);
    room.moderation = fresh;
  }

  /** Cluster: an event from another node for the operators of `room` present here; `reply` names the session it answers. */
  relayToOperators(room: Room<P>, frame: ServerFrame, reply?: { nick: string; id?: string }): void {
    const asker = reply && this.hub.sessionByNick(reply.nick);
    if (asker) return this.hub.tell(this.#operatorsPresent(room), frame, asker, reply.id);
    this.hub.sink.broadcast(this.#operatorsPresent(room), frame);
  }

  /** Cluster: another node's operator acts on `target`, a user of this node (see remote_moderation.ts). */
  remoteAction(target: Session<P>, action: RemoteAction): void {
    switch (action.a) {
      case "remove": {
        const room = this.hub.room(action.room);
        if (!room || !room.members.has(target)) return;
        this.hub.sink.broadcast(room.members, action.frame);
        this.hub.removeFromRoom(room, target, action.frame);
        return;
      }
      case "kill":
        return this.hub.end(target, "killed");
      case "invite":
        this.#addInvite(target, action.room);
        this.hub.sink.send(target, { type: "invite", room: action.room, from: action.from });
        return;
      case "ban":
        return banHere(this.hub, this.hub.cluster!, target, action, (room) => this.#operatorsPresent(room));
      case "op":
        return guestRoleHere(this.hub, target, action.room, action.op);
    }
  }

  /** `frame` to the members of `room` here (the actor with `id`) and on every other node. */
  #tellAll(room: Room<P>, frame: ServerFrame, session: Session<P>, id: string | undefined): void {
    this.hub.tell(room.members, frame, session, id);
    this.hub.cluster?.tellRoom(room.name, frame, false);
  }

  /** `frame` to the operators of `room` here (the actor with `id`) and on every other node. */
  #tellOperators(room: Room<P>, frame: ServerFrame, session: Session<P>, id: string | undefined): void {
    this.hub.tell(this.#operatorsPresent(room), frame, session, id);
    this.hub.cluster?.tellRoom(room.name, frame, true);
  }

  #addInvite(target: Session<P>, room: string): void {
    const invites = (target.invites ??= new Set());
    invites.delete(room);
    invites.add(room);
    if (invites.size > MAX_INVITES) invites.delete(invites.values().next().value!);
  }

  /** A member left `room` (any reason): a guest operator stops being one. */
  memberLeft(room: Room<P>, session: Session<P>): void {
    this.#setGuestOp(room, session, false);
  }

  /** Makes `session` a guest operator of `room`, or not; in a cluster on record for other nodes (who, a locked topic). */
  #setGuestOp(room: Room<P>, session: Session<P>, op: boolean): void {
    const ops = room.moderation.sessionOps;
    if (ops.has(session) === op) return;
    if (op) ops.add(session);
    else ops.delete(session);
    if (session.nickKey !== null) this.hub.cluster?.guestOperator?.(room.name, session.nickKey, session.id, op);
  }

  topic(session: Session<P>, frame: ClientFrameOf<"topic">, now: number, lockCheckedElsewhere = false): void {
    const room = this.#roomFor(session, frame.room, frame.id);
    if (!room) return;
    const mod = room.moderation;
    if (mod.modes.topic_lock && !this.isOperator(room, session) && this.#operatorPresent(room)) {
      return this.hub.error(session, "not_op", `the topic of #${room.name} is locked to its operators`, frame.id);
    }
    // Cluster: an operator present on another node locks the topic as well (asked of the shared member list, then done).
    const remote = this.#remote;
    if (remote && mod.modes.topic_lock && !lockCheckedElsewhere && !this.isOperator(room, session)) {
      return remote.unlessOperatorElsewhere(session, room, frame.id, now, (now) => this.topic(session, frame, now, true));
    }
    const by = session.nick!;
    mod.topic = frame.topic === "" ? null : { text: frame.topic, by, ts: now };
    void this.hub.services.roomStates.setTopic(room.name, mod.topic);
    this.hub.audit({ action: "topic", by, room: room.name, target: frame.topic === "" ? "(cleared)" : undefined }, session);
    this.#tellAll(room, { type: "topic", room: room.name, topic: frame.topic, by, ts: now }, session, frame.id);
  }

  mode(session: Session<P>, frame: ClientFrameOf<"mode">): void {
    const room = this.#operatedRoom(session, frame.room, frame.id);
    if (!room) return;
    const modes = room.moderation.modes;
    if (frame.invite_only !== undefined) modes.invite_only = frame.invite_only;
    if (frame.key !== undefined) modes.key = frame.key;
    if (frame.topic_lock !== undefined) modes.topic_lock = frame.topic_lock;
    void this.hub.services.roomStates.setModes(room.name, { ...modes });
    const view = room.moderation.view();
    this.hub.audit({
      action: "mode",
      by: session.nick!,
      room: room.name,
      target: `invite_only=${view.invite_only} key=${view.key} topic_lock=${view.topic_lock}`,
    }, session);
    this.#tellAll(room, { type: "mode", room: room.name, by: session.nick!, modes: view }, session, frame.id);
  }

  /** `op` and `deop`. */
  role(session: Session<P>, frame: ClientFrameOf<"op"> | ClientFrameOf<"deop">, now = this.hub.services.now()): void {
    const room = this.#operatedRoom(session, frame.room, frame.id);
    if (!room) return;
    const remote = this.#remote;
    if (remote && !this.hub.sessionByNick(frame.nick)) {
      return remote.member(session, room, frame.nick, frame.id, now, (member, now) => this.#remoteRole(session, room, member, frame, now));
    }
    const target = this.#member(session, room, frame.nick, frame.id);
    if (!target) return;
    const op = frame.type === "op";
    if (!op && this.hub.isServerOperator(target)) {
      return this.hub.error(session, "invalid", `${target.nick} is a server operator, an operator of every room`, frame.id, {
        field: "nick",
      });
    }
    const mod = room.moderation;
    if (target.account !== null) {
      if (op) mod.accountOps.set(target.account.key, target.account.name);
      else mod.accountOps.delete(target.account.key);
      void this.hub.services.roomStates.setOperator(room.name, target.account.name, op);
    }
    if (op && target.account === null) this.#setGuestOp(room, target, true);
    if (!op) this.#setGuestOp(room, target, false);
    this.hub.audit({ action: frame.type, by: session.nick!, target: target.nick!, room: room.name }, session);
    const event: ServerFrame = {
      type: "role",
      room: room.name,
      nick: target.nick!,
      ...(target.account !== null ? { account: target.account.name } : {}),
      op,
      by: session.nick!,
    };
    this.#tellAll(room, event, session, frame.id);
  }

  /** `op`/`deop` of a member of another node: by its account, or for a guest by its node (remote_target.ts). */
  #remoteRole(session: Session<P>, room: Room<P>, member: ClusterMember, frame: ClientFrameOf<"op"> | ClientFrameOf<"deop">, now: number): void {
    const op = frame.type === "op";
    if (member.account === undefined) {
      return this.#remote!.send(session, member.nick, { a: "op", room: room.name, op }, frame.id, now, () => {
        this.hub.audit({ action: frame.type, by: session.nick!, target: member.nick, room: room.name }, session);
        this.#tellAll(room, { type: "role", room: room.name, nick: member.nick, op, by: session.nick! }, session, frame.id);
      });
    }
    if (!op && this.#remote!.isServerOperator(member)) {
      return this.hub.error(session, "invalid", `${member.nick} is a server operator, an operator of every room`, frame.id, { field: "nick" });
    }
    const mod = room.moderation;
    if (op) mod.accountOps.set(nickKey(member.account), member.account);
    else mod.accountOps.delete(nickKey(member.account));
    void this.hub.services.roomStates.setOperator(room.name, member.account, op);
    this.hub.audit({ action: frame.type, by: session.nick!, target: member.nick, room: room.name }, session);
    this.#tellAll(room, { type: "role", room: room.name, nick: member.nick, account: member.account, op, by: session.nick! }, session, frame.id);
  }

  kick(session: Session<P>, frame: ClientFrameOf<"kick">, now = this.hub.services.now()): void {
    const room = this.#operatedRoom(session, frame.room, frame.id);
    if (!room) return;
    const remote = this.#remote;
    if (remote && !this.hub.sessionByNick(frame.nick)) {
      return remote.member(session, room, frame.nick, frame.id, now, (member, now) => {
        this.hub.audit({ action: "kick", by: session.nick!, target: member.nick, room: room.name, reason: frame.reason }, session);
        remote.remove(session, room, member, "kicked", frame.reason, frame.id, now);
      });
    }
    const target = this.#member(session, room, frame.nick, frame.id, "kick");
    if (!target) return;
    this.hub.audit({ action: "kick", by: session.nick!, target: target.nick!, room: room.name, reason: frame.reason }, session);
    this.#remove(room, target, "kicked", session, frame.reason, frame.id);
  }

  ban(session: Session<P>, frame: ClientFrameOf<"ban">, now: number): void {
    const room = this.#operatedRoom(session, frame.room, frame.id);
    if (!room) return;
    const remote = this.#remote;
    if (remote && !this.hub.sessionByNick(frame.nick)) {
      // A member of the room elsewhere is banned from here (the shared member list knows its account); anyone else by its node.
      return remote.member(session, room, frame.nick, frame.id, now, (member, now) => {
        this.#addBan(session, room, remoteBanMask(member), frame, now);
        remote.remove(session, room, member, "banned", frame.reason, undefined, now);
      }, (now) => remote.banAbsent(session, room, frame, now));
    }
    const target = this.#target(session, frame.nick, frame.id, "ban");
    if (!target) return;
    this.#addBan(session, room, banMask(target), frame, now);
    if (room.members.has(target)) this.#remove(room, target, "banned", session, frame.reason, undefined);
  }

  /** Records the ban of `mask` (here, in the store, on every node) and tells the operators. */
  #addBan(session: Session<P>, room: Room<P>, mask: string, frame: ClientFrameOf<"ban">, now: number): void {
    const ban = { mask, by: session.nick!, ts: now, reason: frame.reason ?? "" };
    const replaced = room.moderation.addBan(ban);
    // A look-alike mask replaces the old one in the store too.
    if (replaced && replaced.mask !== ban.mask) void this.hub.services.roomStates.removeBan(room.name, replaced.mask);
    void this.hub.services.roomStates.addBan(room.name, ban);
    this.hub.audit({ action: "ban", by: session.nick!, target: ban.mask, room: room.name, reason: frame.reason }, session);
    this.#tellOperators(room, { type: "ban", room: room.name, mask: ban.mask, by: ban.by }, session, frame.id);
  }

  unban(session: Session<P>, frame: ClientFrameOf<"unban">): void {
    const room = this.#operatedRoom(session, frame.room, frame.id);
    if (!room) return;
    const removed = room.moderation.removeBan(frame.mask);
    if (!removed) {
      return this.hub.error(session, "invalid", `#${room.name} has no ban ${normalizeMask(frame.mask)}`, frame.id, { field: "mask" });
    }
    const mask = removed.mask;
    void this.hub.services.roomStates.removeBan(room.name, mask);
    this.hub.audit({ action: "unban", by: session.nick!, target: mask, room: room.name }, session);
    const event: ServerFrame = { type: "ban", room: room.name, mask, by: session.nick!, removed: true };
    this.#tellOperators(room, event, session, frame.id);
  }

  bans(session: Session<P>, frame: ClientFrameOf<"bans">): void {
    const room = this.#operatedRoom(session, frame.room, frame.id);
    if (!room) return;
    const bans = [...room.moderation.bans.values()].map(({ mask, by, ts, reason }) => ({ mask, by, ts, reason }));
    this.hub.sink.send(session, withId({ type: "bans", room: room.name, bans }, frame.id));
  }

  invite(session: Session<P>, frame: ClientFrameOf<"invite">, now = this.hub.services.now()): void {
    const room = this.#roomFor(session, frame.room, frame.id);
    if (!room) return;
    if (room.moderation.modes.invite_only && !this.isOperator(room, session)) {
      return this.hub.error(session, "not_op", `only operators invite to #${room.name}`, frame.id);
    }
    const target = this.hub.sessionByNick(frame.nick);
    const event: ServerFrame = { type: "invite", room: room.name, from: session.nick! };
    const remote = this.#remote;
    if (!target && remote) {
      return remote.send(session, frame.nick, { a: "invite", room: room.name, from: session.nick! }, frame.id, now, () => {
        this.hub.audit({ action: "invite", by: session.nick!, target: frame.nick, room: room.name }, session);
        this.hub.sink.send(session, withId(event, frame.id));
      });
    }
    if (!target) return this.hub.error(session, "no_such_user", `${frame.nick} is not connected`, frame.id);
    this.#addInvite(target, room.name);
    this.hub.audit({ action: "invite", by: session.nick!, target: target.nick!, room: room.name }, session);
    if (target !== session) this.hub.sink.send(target, event);
    this.hub.sink.send(session, withId(event, frame.id));
  }

  kill(session: Session<P>, frame: ClientFrameOf<"kill">, now = this.hub.services.now()): void {
    if (!this.hub.isServerOperator(session)) {
      return this.hub.error(session, "not_op", "only server operators may kill", frame.id);
    }
    const remote = this.#remote;
    if (remote && !this.hub.sessionByNick(frame.nick)) {
      // Only a server operator kills, so a server operator on another node is no exception to check.
      return remote.send(session, frame.nick, { a: "kill" }, frame.id, now, () => {
        this.hub.audit({ action: "kill", by: session.nick!, target: frame.nick, reason: frame.reason }, session);
        this.hub.sink.send(session, withId({ type: "presence", nick: frame.nick, status: "offline", reason: "killed" }, frame.id));
      });
    }
    const target = this.#target(session, frame.nick, frame.id, "kill");
    if (!target) return;
    const nick = target.nick!;
    this.hub.audit({ action: "kill", by: session.nick!, target: nick, reason: frame.reason }, session);
    this.hub.end(target, "killed");
    this.hub.sink.send(session, withId({ type: "presence", nick, status: "offline", reason: "killed" }, frame.id));
  }

  /** Tells every member (the target too) that `target` was removed, then removes it. */
  #remove(
    room: Room<P>,
    target: Session<P>,
    reason: "kicked" | "banned",
    by: Session<P>,
    note: string | undefined,
    id: string | undefined,
  ): void {
    const event: ServerFrame = {
      type: "leave",
      room: room.name,
      nick: target.nick!,
      reason,
      by: by.nick!,
      ...(note !== undefined ? { note } : {}),
    };
    this.hub.tell(room.members, event, by, id);
    this.hub.removeFromRoom(room, target, event);
  }

  /** The room a member (or server operator) acts on; answers the error itself. */
  #roomFor(session: Session<P>, name: string, id: string | undefined): Room<P> | undefined {
    const room = this.hub.room(name);
    if (!room) {
      this.hub.error(session, "no_such_room", `there is no room ${name}`, id);
      return undefined;
    }
    if (!room.members.has(session) && !this.hub.isServerOperator(session)) {
      this.hub.error(session, "not_in_room", `you are not in ${name}`, id);
      return undefined;
    }
    return room;
  }

  /** The room an operator acts on; answers `not_op` itself. */
  #operatedRoom(session: Session<P>, name: string, id: string | undefined): Room<P> | undefined {
    const room = this.#roomFor(session, name, id);
    if (room && !this.isOperator(room, session)) {
      this.hub.error(session, "not_op", `you are not an operator of #${room.name}`, id);
      return undefined;
    }
    return room;
  }

  /** A connected user to act on; refuses oneself and server operators (unless by a server operator). */
  #target(session: Session<P>, nick: string, id: string | undefined, verb: string): Session<P> | undefined {
    const target = this.hub.sessionByNick(nick);
    if (!target) {
      this.hub.error(session, "no_such_user", `${nick} is not connected`, id);
      return undefined;
    }
    if (target === session) {
      this.hub.error(session, "invalid", `you cannot ${verb} yourself`, id, { field: "nick" });
      return undefined;
    }
    if (this.hub.isServerOperator(target) && !this.hub.isServerOperator(session)) {
      this.hub.error(session, "not_op", `${target.nick} is a server operator`, id);
      return undefined;
    }
    return target;
  }

  /** A member of `room` to act on (see {@linkcode #target}); `verb` set refuses oneself and server operators. */
  #member(session: Session<P>, room: Room<P>, nick: string, id: string | undefined, verb?: string): Session<P> | undefined {
    const target = verb ? this.#target(session, nick, id, verb) : this.hub.sessionByNick(nick);
    if (!verb && !target) this.hub.error(session, "no_such_user", `${nick} is not connected`, id);
    if (!target) return undefined;
    if (!room.members.has(target)) {
      this.hub.error(session, "not_in_room", `${target.nick} is not in #${room.name}`, id);
      return undefined;
    }
    return target;
  }

  /**
   * Operators present in `room` found without scanning its members (a
   * crowded room's snapshot must not cost O(members)): guest operators,
   * account operators online under their account's name, and server
   * operators online under theirs. One logged in under another nick is
   * missed, which only changes the order of a snapshot's member list.
   */
  knownOperatorsPresent(room: Room<P>): Session<P>[] {
    const out = new Set<Session<P>>();
    for (const session of room.moderation.sessionOps) if (room.members.has(session)) out.add(session);
    const names = [...room.moderation.accountOps.values(), ...this.hub.settings.operators.split(",")];
    for (const name of names) {
      const session = name.trim() === "" ? undefined : this.hub.sessionByNick(name.trim());
      if (session && room.members.has(session) && this.isOperator(room, session)) out.add(session);
    }
    return [...out];
  }

  #operatorPresent(room: Room<P>): boolean {
    for (const member of room.members) if (this.isOperator(room, member)) return true;
    return false;
  }

  #operatorsPresent(room: Room<P>): Session<P>[] {
    return [...room.members].filter((member) => this.isOperator(room, member));
  }
}
