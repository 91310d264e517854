/**
 * Answers that arrive later (a password hash, a store read), without making
 * the hub asynchronous: a ready value continues at once; a promise marks its
 * session as waiting, the session's later frames are held in order (bounded),
 * and once the promise settles its continuation runs, then the held frames.
 *
 * @module
 */
import type { ClientFrame } from "../protocol/client_frames.ts";
import type { Awaitable } from "../store/account_store.ts";
import type { Session } from "./session.ts";

/** Most frames held for a waiting session; past it, frames are refused. */
export const MAX_HELD_FRAMES = 32;

/** Defers continuations and holds frames for one hub. */
export class SessionWaits<P> {
  constructor(
    /** The time when an answer arrives. */
    readonly now: () => number,
    /** Handles a frame (the hub's `handle`), for held frames. */
    readonly handle: (session: Session<P>, frame: ClientFrame, now: number) => void,
    /** Answers a frame that found the hold full. */
    readonly refuse: (session: Session<P>, frame: ClientFrame) => void,
  ) {}

  /** Runs `then` with `value` now if it is ready, else when it settles (skipped for a session that left meanwhile). */
  defer<T>(
    session: Session<P>,
    value: Awaitable<T>,
    now: number,
    then: (value: T, now: number) => void,
    failed: (error: unknown, now: number) => void,
  ): void {
    if (!(value instanceof Promise)) return then(value, now);
    session.waits++;
    const settle = (run: () => void) => {
      session.waits--;
      if (session.departed) return;
      run();
      if (session.waits === 0) this.#release(session);
    };
    value.then(
      (result) => settle(() => then(result, this.now())),
      (error) => settle(() => failed(error, this.now())),
    );
  }

  /** Keeps a frame that arrived while its session waits; refuses past the bound. */
  hold(session: Session<P>, frame: ClientFrame): void {
    const held = (session.held ??= []);
    if (held.length < MAX_HELD_FRAMES) held.push(frame);
    else this.refuse(session, frame);
  }

  /** Handles held frames in order, until one makes the session wait again. */
  #release(session: Session<P>): void {
    const held = session.held;
    session.held = null;
    if (!held) return;
    const now = this.now();
    for (let i = 0; i < held.length; i++) {
      if (session.departed) return;
      if (session.waits > 0) {
        session.held = [...held.slice(i), ...(session.held ?? [])];
        return;
      }
      this.handle(session, held[i], now);
    }
  }
}
