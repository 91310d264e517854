/**
 * A connection as the hub sees it: who it is, where it is, and its limits.
 * `peer` is the server's handle for the connection; the hub never looks in it.
 *
 * @module
 */
import type { BucketState, StrikeState } from "./rate_limiter.ts";
import type { Room } from "./room.ts";
import type { AccountRef } from "./room_modes.ts";
import type { ClientFrame } from "../protocol/client_frames.ts";

/**
 * One connected client, registered or not. It is its own rate-limit bucket
 * and strike record (plain fields, not objects: thousands of idle
 * connections each save two allocations).
 */
export class Session<P = unknown> implements BucketState, StrikeState {
  /** Display nick once registered. */
  nick: string | null = null;
  /** Uniqueness key of `nick` (NFKC case fold). */
  nickKey: string | null = null;
  /** Rooms this session is in, in join order. */
  readonly rooms = new Set<Room<P>>();
  status: "online" | "away" = "online";
  note: string | undefined = undefined;
  /** When `status` last changed (ms since epoch). */
  statusSince: number;
  /** True once the session has left the hub for good. */
  departed = false;
  tokens: number;
  tokensAt: number;
  strikes = 0;
  strikesAt: number;
  /** The account this session is logged in to. */
  account: AccountRef | null = null;
  /** Peer address (no port), for limits per address such as password guessing. */
  address = "";
  /** Answers the session waits for (a password check): while above 0, its frames are held, in order. */
  waits = 0;
  /** Frames that arrived while `waits` > 0. */
  held: ClientFrame[] | null = null;
  /** Invite-only rooms this session was invited to (each invite lets it join once). */
  invites: Set<string> | null = null;
  /** The token bucket shared by every connection from this session's address; null when exempt. */
  addressBucket: BucketState | null = null;

  constructor(
    /** Opaque id sent in `welcome`. */
    readonly id: string,
    /** The server's handle for this session's connection. */
    readonly peer: P,
    burst: number,
    now: number,
  ) {
    this.statusSince = now;
    this.tokens = burst;
    this.tokensAt = now;
    this.strikesAt = now;
  }

  /** Whether `hello` has succeeded. */
  get registered(): boolean {
    return this.nick !== null && !this.departed;
  }
}
