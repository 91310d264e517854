/**
 * The hub's view of password hashing: an asynchronous service with a bounded
 * queue. The hub never hashes itself (it stays synchronous logic); it asks,
 * and the answer comes back into it as an event (see `accounts.ts`).
 *
 * @module
 */
import type { PasswordRecord } from "../store/account_store.ts";

/** Hashes and checks passwords off the event loop. */
export interface PasswordHasher {
  /** A new salted hash of `password`. Rejects with {@linkcode HasherBusyError} when the queue is full. */
  hash(password: string): Promise<PasswordRecord>;
  /** Whether `password` matches `record`, compared in constant time. Rejects with {@linkcode HasherBusyError} when the queue is full. */
  verify(password: string, record: PasswordRecord): Promise<boolean>;
}

/** The hasher's queue is full: try again after `retryAfterMs`. */
export class HasherBusyError extends Error {
  /** Stable code, as for every error value. */
  readonly code = "hasher_busy";
  constructor(readonly retryAfterMs: number) {
    super(`password checks are queued; retry in ${retryAfterMs} ms`);
  }
}
