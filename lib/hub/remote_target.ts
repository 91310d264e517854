/**
 * What a cluster node does when an operator of another node acts on one of
 * its users through a {@linkcode RemoteAction} that needs what only this
 * node knows (see remote_moderation.ts for the actor's side):
 *
 * - `ban` of a user who is not in the room: the ban's mask depends on the
 *   user's login (`account:NAME` when logged in, else `nick:NICK`), which
 *   only the user's node knows. So this node makes the ban: it records it
 *   (the store write tells every node following the room), tells the room's
 *   operators on every node, and the actor's node answers the actor with
 *   it (the relayed event carries who asked, see HubCluster.tellRoom). A
 *   later join of the user on any node meets the ban: a node that follows
 *   the room applied the change, one that does not reads it when it opens
 *   the room.
 * - `op`/`deop` of a guest: a guest operator exists only on its own node
 *   (a session, not an account), so this node adds it there; the actor's
 *   node tells every member the `role` event after this action was sent
 *   (the action and the event reach this node in that order, so the new
 *   operator is one before it is told).
 *
 * @module
 */
import { nickKey } from "../protocol/names.ts";
import type { ServerFrame } from "../protocol/server_frames.ts";
import type { HubCluster, RemoteBan } from "./hub_cluster.ts";
import type { HubCore } from "./hub_services.ts";
import type { Room } from "./room.ts";
import { banMask } from "./room_modes.ts";
import type { Session } from "./session.ts";

/** Bans `target`, a user of this node, as `action` asks (see the module doc). `operators` lists the operators present in a room here. */
export function banHere<P>(
  hub: HubCore<P>,
  cluster: HubCluster,
  target: Session<P>,
  action: RemoteBan,
  operators: (room: Room<P>) => Iterable<Session<P>>,
): void {
  const withId = action.id !== undefined ? { id: action.id } : {};
  if (hub.isServerOperator(target) && !action.sop) {
    // Refused here, where the target's login is known; the actor hears it like a DM.
    const refusal: ServerFrame = { type: "error", code: "not_op", message: `${target.nick} is a server operator`, ...withId };
    void cluster.sendDm(nickKey(action.by), refusal).catch(() => {});
    return;
  }
  const ban = { mask: banMask(target), by: action.by, ts: action.ts, reason: action.reason };
  const room = hub.room(action.room);
  const replaced = room?.moderation.addBan(ban);
  // A look-alike mask replaces the old one in the store too (as on the actor's side for a member).
  if (replaced && replaced.mask !== ban.mask) void hub.services.roomStates.removeBan(action.room, replaced.mask);
  void hub.services.roomStates.addBan(action.room, ban);
  hub.audit({ action: "ban", by: action.by, target: ban.mask, room: action.room, ...(action.reason !== "" ? { reason: action.reason } : {}) });
  const event: ServerFrame = { type: "ban", room: action.room, mask: ban.mask, by: action.by };
  if (room) hub.sink.broadcast(operators(room), event);
  cluster.tellRoom(action.room, event, true, { nick: action.by, ...withId });
  // It joined between the actor's look at the member list and now: out, as a member is when banned.
  if (room && room.members.has(target)) {
    const leave: ServerFrame = {
      type: "leave",
      room: room.name,
      nick: target.nick!,
      reason: "banned",
      by: action.by,
      ...(action.reason !== "" ? { note: action.reason } : {}),
    };
    hub.sink.broadcast(room.members, leave);
    hub.removeFromRoom(room, target, leave);
  }
}

/** Makes `target`, a guest of this node, an operator of `room` here (or no longer one). */
export function guestRoleHere<P>(hub: HubCore<P>, target: Session<P>, room: string, op: boolean): void {
  const live = hub.room(room);
  if (!live || !live.members.has(target) || live.moderation.sessionOps.has(target) === op) return;
  if (op) live.moderation.sessionOps.add(target);
  else live.moderation.sessionOps.delete(target);
  // On record, so every node's `who` marks it (guest_operators.ts).
  if (target.nickKey !== null) hub.cluster?.guestOperator?.(room, target.nickKey, target.id, op);
}
