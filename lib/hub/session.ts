/**
 * A connection as the hub sees it: who it is, where it is, and its limits.
 * `peer` is the server's handle for the connection; the hub never looks in it.
 *
 * Thousands of idle sessions are the server's resting state, so a session
 * keeps only what every one of them uses as its own fields; what few sessions
 * ever set (a status note, held frames, invites, strikes) lives in one
 * {@linkcode SessionExtras} made on first use, behind accessors with the
 * same names (issue 15).
 *
 * @module
 */
import type { BucketState, StrikeState } from "./rate_limiter.ts";
import type { Room } from "./room.ts";
import type { AccountRef } from "./room_modes.ts";
import type { ClientFrame } from "../protocol/client_frames.ts";

/** What few sessions set: made on the first write of any of them. */
class SessionExtras {
  note: string | undefined = undefined;
  waits = 0;
  held: ClientFrame[] | null = null;
  invites: Set<string> | null = null;
  strikes = 0;
  strikesAt = 0;
}

/** No rooms: shared, never written. */
const NO_ROOMS: readonly never[] = [];

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
  /**
   * The rooms, in join order: null for none, the room itself for one (most
   * sessions: a Set held ~450 B per session on Bun), a Set from the second.
   */
  #rooms: Room<P> | Set<Room<P>> | null = null;
  status: "online" | "away" = "online";
  /** When `status` last changed (ms since epoch). */
  statusSince: number;
  /** True once the session has left the hub for good. */
  departed = false;
  tokens: number;
  tokensAt: number;
  /** The account this session is logged in to. */
  account: AccountRef | null = null;
  /** Peer address (no port), for limits per address such as password guessing. */
  address = "";
  /** The token bucket shared by every connection from this session's address; null when exempt. */
  addressBucket: BucketState | null = null;
  #extras: SessionExtras | null = null;
  /** The hub's list of sessions (IntrusiveList). */
  listPrev: Session<P> | null = null;
  listNext: Session<P> | null = null;

  constructor(
    /** The hub's boot id, the start of session ids: one string shared by all its sessions. */
    readonly bootId: string,
    /** This session's number within its hub. */
    readonly serial: number,
    /** The server's handle for this session's connection. */
    readonly peer: P,
    burst: number,
    now: number,
  ) {
    this.statusSince = now;
    this.tokens = burst;
    this.tokensAt = now;
  }

  /** Opaque id sent in `welcome`: made when asked for, so an idle session holds no string for it. */
  get id(): string {
    return `${this.bootId}-${this.serial.toString(36)}`;
  }

  /** Whether `hello` has succeeded. */
  get registered(): boolean {
    return this.nick !== null && !this.departed;
  }

  /** The rooms this session is in, in join order (iterate it; it changes as the session joins and leaves). */
  get rooms(): Iterable<Room<P>> {
    const rooms = this.#rooms;
    return rooms === null ? NO_ROOMS : rooms instanceof Set ? rooms : [rooms];
  }

  /** How many rooms this session is in. */
  get roomCount(): number {
    const rooms = this.#rooms;
    return rooms === null ? 0 : rooms instanceof Set ? rooms.size : 1;
  }

  /** Records that the session joined `room` (last in join order). */
  addRoom(room: Room<P>): void {
    const rooms = this.#rooms;
    if (rooms === null) this.#rooms = room;
    else if (rooms instanceof Set) rooms.add(room);
    else if (rooms !== room) this.#rooms = new Set([rooms, room]);
  }

  /** Records that the session left `room`. */
  removeRoom(room: Room<P>): void {
    const rooms = this.#rooms;
    if (rooms === room) this.#rooms = null;
    else if (rooms instanceof Set && rooms.delete(room) && rooms.size === 1) {
      // Back to one room: drop the Set.
      this.#rooms = rooms.values().next().value!;
    }
  }

  /** Forgets every room (the session left them all). */
  clearRooms(): void {
    this.#rooms = null;
  }

  #more(): SessionExtras {
    return (this.#extras ??= new SessionExtras());
  }

  /** The note set with `status`, if any. */
  get note(): string | undefined {
    return this.#extras?.note;
  }
  set note(note: string | undefined) {
    if (note !== undefined || this.#extras !== null) this.#more().note = note;
  }

  /** Answers the session waits for (a password check): while above 0, its frames are held, in order. */
  get waits(): number {
    return this.#extras?.waits ?? 0;
  }
  set waits(waits: number) {
    this.#more().waits = waits;
  }

  /** Frames that arrived while `waits` > 0. */
  get held(): ClientFrame[] | null {
    return this.#extras?.held ?? null;
  }
  set held(held: ClientFrame[] | null) {
    if (held !== null || this.#extras !== null) this.#more().held = held;
  }

  /** Invite-only rooms this session was invited to (each invite lets it join once). */
  get invites(): Set<string> | null {
    return this.#extras?.invites ?? null;
  }
  set invites(invites: Set<string> | null) {
    if (invites !== null || this.#extras !== null) this.#more().invites = invites;
  }

  /** Rate-limit violations (StrikeState); 0 with no record, which forgives the same as an old one. */
  get strikes(): number {
    return this.#extras?.strikes ?? 0;
  }
  set strikes(strikes: number) {
    this.#more().strikes = strikes;
  }

  /** When `strikes` was last updated (StrikeState). */
  get strikesAt(): number {
    return this.#extras?.strikesAt ?? 0;
  }
  set strikesAt(at: number) {
    this.#more().strikesAt = at;
  }
}
