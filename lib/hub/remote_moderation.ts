/**
 * Moderation of a user connected to another node of a cluster (protocol
 * section 14 with section 9): the acting node checks what it can from the
 * shared store (the room's member list gives the target's nick and account),
 * then sends the action over the target node's channel, as a DM goes, and
 * that node does it (see {@linkcode ModerationDesk.remoteAction}). The actor
 * gets its answer (with its `id`) from its own node once Redis took the
 * action for a live node; `no_such_user` when no node holds the nick.
 *
 * Round trips per action: kick 2 (member list, action), ban 3 (member list,
 * the ban's write and its announcement, the removal), kill 1, invite 1.
 * A ban of a user who is not in the room (2: member list, action) and
 * `op`/`deop` of a guest (2, plus the announcement) are done by the
 * target's node, which alone knows its login or holds its session (see
 * remote_target.ts).
 *
 * @module
 */
import { nickFold, nickKey } from "../protocol/names.ts";
import { type ServerFrame, withId } from "../protocol/server_frames.ts";
import { StoreUnavailable } from "../store/types.ts";
import type { ClientFrameOf } from "../protocol/client_frames.ts";
import type { ClusterMember, HubCluster, RemoteAction, RemoteBan } from "./hub_cluster.ts";
import type { HubCore } from "./hub_services.ts";
import type { Room } from "./room.ts";
import { type AccountRef, ServerOperators } from "./room_modes.ts";
import type { Session } from "./session.ts";

/** The mask that bans a member of another node (as `banMask` makes for a local one). */
export function remoteBanMask(member: ClusterMember): string {
  return member.account !== undefined ? `account:${nickFold(member.account)}` : `nick:${nickFold(member.nick)}`;
}

/** Actor-side handling of moderation on users of other nodes. */
export class RemoteModeration<P> {
  readonly #serverOperators = new ServerOperators();

  constructor(readonly hub: HubCore<P>, readonly cluster: HubCluster) {}

  /** Whether a member of another node is a server operator (its account is named in `operators`). */
  isServerOperator(member: ClusterMember): boolean {
    const ref: AccountRef | null = member.account === undefined ? null : { key: nickKey(member.account), name: member.account };
    return this.#serverOperators.includes(ref, this.hub.settings.operators);
  }

  /**
   * Finds `nick` in the shared member list of `room`, refusing (as for a
   * local target) oneself and server operators unless `session` is one,
   * then calls `then` with it; answers errors itself. Not in the room:
   * `absent` when given, else `not_in_room`.
   */
  member(
    session: Session<P>,
    room: Room<P>,
    nick: string,
    id: string | undefined,
    now: number,
    then: (m: ClusterMember, now: number) => void,
    absent?: (now: number) => void,
  ): void {
    const key = nickKey(nick);
    this.hub.defer(session, this.cluster.members(room.name), now, (members, now) => {
      const member = members.find((m) => nickKey(m.nick) === key);
      if (!member && absent) return absent(now);
      if (!member) return this.hub.error(session, "not_in_room", `${nick} is not in #${room.name}`, id);
      if (this.isServerOperator(member) && !this.hub.isServerOperator(session)) {
        return this.hub.error(session, "not_op", `${member.nick} is a server operator`, id);
      }
      then(member, now);
    }, (error) => this.#unavailable(session, error, id));
  }

  /**
   * Runs `then` unless a member of `room` on another node operates it (by
   * its account, as a server operator, or as a guest operator on record);
   * else answers `not_op` (a locked topic).
   */
  unlessOperatorElsewhere(session: Session<P>, room: Room<P>, id: string | undefined, now: number, then: (now: number) => void): void {
    this.hub.defer(session, this.cluster.members(room.name), now, (members, now) => {
      const operating = members.some((m) =>
        nickKey(m.nick) !== session.nickKey &&
        (m.op === true || (m.account !== undefined && (room.moderation.accountOps.has(nickKey(m.account)) || this.isServerOperator(m))))
      );
      if (operating) return this.hub.error(session, "not_op", `the topic of #${room.name} is locked to its operators`, id);
      then(now);
    }, (error) => this.#unavailable(session, error, id));
  }

  /**
   * Sends `action` to the node of `nick`; on success runs `done` (which
   * answers the actor), else answers `no_such_user`.
   */
  send(session: Session<P>, nick: string, action: RemoteAction, id: string | undefined, now: number, done: () => void): void {
    this.hub.defer(session, this.cluster.sendAction(nickKey(nick), action), now, (sent) => {
      if (!sent) return this.hub.error(session, "no_such_user", `${nick} is not connected`, id);
      done();
    }, (error) => this.#unavailable(session, error, id));
  }

  /**
   * Bans the user of another node who holds `frame.nick` and is not in
   * `room`: its node makes the mask and the ban, and the answer comes back
   * relayed (remote_target.ts); `no_such_user` when nobody holds the nick.
   */
  banAbsent(session: Session<P>, room: Room<P>, frame: ClientFrameOf<"ban">, now: number): void {
    const action: RemoteBan = {
      a: "ban",
      room: room.name,
      by: session.nick!,
      ts: now,
      reason: frame.reason ?? "",
      sop: this.hub.isServerOperator(session),
      ...(frame.id !== undefined ? { id: frame.id } : {}),
    };
    this.send(session, frame.nick, action, frame.id, now, () => {});
  }

  /** Removes `member` of another node from `room` (kick or ban); every member on every node hears `leave`. */
  remove(session: Session<P>, room: Room<P>, member: ClusterMember, reason: "kicked" | "banned", note: string | undefined, id: string | undefined, now: number): void {
    const frame: ServerFrame = {
      type: "leave",
      room: room.name,
      nick: member.nick,
      reason,
      by: session.nick!,
      ...(note !== undefined ? { note } : {}),
    };
    // The target's node tells its members and the other nodes (this one skips the actor: it gets its copy here, with id).
    this.send(session, member.nick, { a: "remove", room: room.name, frame }, id, now, () => this.hub.sink.send(session, withId(frame, id)));
  }

  #unavailable(session: Session<P>, error: unknown, id: string | undefined): void {
    this.hub.audit({ action: "cluster_error", by: session.nick ?? "-", reason: String((error as Error)?.message ?? error) }, session);
    const retryAfterMs = error instanceof StoreUnavailable ? error.retryAfterMs : 1000;
    this.hub.error(session, "unavailable", "the cluster store is unavailable right now; try again later", id, { retry_after_ms: retryAfterMs });
  }
}
