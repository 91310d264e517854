/**
 * Which frames spend rate-limit tokens, and spending them from both buckets
 * that apply: the connection's own and the one its address shares with every
 * other connection from there (PROTOCOL section 16).
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { type BucketState, takeToken } from "./rate_limiter.ts";

/**
 * Frame types that reach other people, and so spend a token: each can make
 * the server send to many. Listed by name (not only the types that exist
 * today) so that `topic`, `mode`, `kick`, `ban` and `invite` spend one the
 * moment they are added. `history` reaches nobody else but spends one too:
 * each answer can be a 256 KiB page for a 60-byte request. Other frames
 * answered only to the sender (`who`, `rooms`, `ping`, `leave`) are free.
 */
export const SPENDS_TOKEN: ReadonlySet<string> = new Set([
  "msg",
  "dm",
  "join",
  "nick",
  "status",
  "topic",
  "mode",
  "kick",
  "ban",
  "invite",
  "history",
  // Also: the rest of the moderation frames, and account frames, which each cost a password hash.
  "op",
  "deop",
  "unban",
  "kill",
  "register",
  "passwd",
  "drop",
]);

/** What spends tokens: a connection's bucket, and its address's shared one (null when exempt). */
export interface TokenHolder extends BucketState {
  addressBucket: BucketState | null;
}

/** The settings {@linkcode takeTokens} reads. */
export type TokenSettings = Pick<Settings, "rate_per_s" | "burst" | "ip_rate_per_s" | "ip_burst">;

/**
 * Takes one token from the connection's bucket and one from its address's.
 * Returns 0 when both allow it, else the milliseconds until both will; a
 * refusal takes nothing, so a frame refused by one bucket does not drain the other.
 */
export function takeTokens(holder: TokenHolder, s: TokenSettings, now: number): number {
  const ownWait = takeToken(holder, s.rate_per_s, s.burst, now);
  if (ownWait > 0 || holder.addressBucket === null) return ownWait;
  const addressWait = takeToken(holder.addressBucket, s.ip_rate_per_s, s.ip_burst, now);
  if (addressWait > 0 && s.rate_per_s > 0) holder.tokens += 1; // Give back the connection's token.
  return addressWait;
}
