/**
 * Limits per remote address (PROTOCOL section 16): a connection rate, and a
 * token bucket that every connection from the address shares on top of its
 * own, so opening a new connection never buys a fresh burst.
 *
 * Memory is bounded: an address's entry is forgotten once it has no open
 * connection and both its buckets have refilled (at the defaults, 2 s after
 * its last use). Forgetting such an entry loses nothing, because a new entry
 * is exactly as full. Past `max_tracked_addresses` entries, the least
 * recently used idle ones are forgotten early; only then can an address get
 * a bucket back before it refilled, which takes an attacker more addresses
 * than the table holds. Entries with open connections are never dropped, and
 * there are at most `max_connections` of those.
 *
 * IPv6 addresses are grouped by /64, since one host or home usually gets a
 * whole /64 and could otherwise rotate through addresses for fresh buckets.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { type BucketState, newBucket, takeToken } from "../hub/rate_limiter.ts";
import { isLoopback } from "./peer_limits.ts";

/** The settings the table reads (live: a reload applies at once). */
export type AddressLimitSettings = Pick<
  Settings,
  | "per_ip_exempt_loopback"
  | "ip_rate_per_s"
  | "ip_burst"
  | "connect_rate_per_ip"
  | "connect_burst_per_ip"
  | "max_tracked_addresses"
>;

/** One address's state. */
interface AddressEntry {
  /** Open connections from the address. */
  open: number;
  /** The frame bucket its connections share. */
  readonly frames: BucketState;
  /** New connections. */
  readonly connects: BucketState;
}

/** The answer to a new connection: admitted with its shared bucket (null when exempt), or refused for a while. */
export type Admission = { ok: true; bucket: BucketState | null } | { ok: false; retryAfterMs: number };

/**
 * The key an address is limited under: IPv4 as is (also when IPv4-mapped),
 * IPv6 by its /64 prefix.
 */
export function addressKey(host: string): string {
  const bare = host.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1];
  if (!bare.includes(":")) return bare;
  const [head, tail] = bare.split("::", 2);
  const front = head ? head.split(":") : [];
  const back = tail === undefined ? [] : tail ? tail.split(":") : [];
  const groups = tail === undefined ? front : [...front, ...Array(Math.max(0, 8 - front.length - back.length)).fill("0"), ...back];
  return groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(":") + "::/64";
}

/** Per-address buckets, bounded in number. */
export class AddressLimits {
  /** In least-recently-admitted order (an admitted address moves to the end). */
  readonly #entries = new Map<string, AddressEntry>();

  constructor(readonly settings: AddressLimitSettings) {}

  /** Addresses tracked now. */
  get size(): number {
    return this.#entries.size;
  }

  /** A new connection from `host`: spends a connection token and counts it open, or says how long to wait. */
  admit(host: string, now: number): Admission {
    const s = this.settings;
    if (s.per_ip_exempt_loopback && isLoopback(host)) return { ok: true, bucket: null };
    const key = addressKey(host);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= s.max_tracked_addresses) this.#evictIdle();
      entry = { open: 0, frames: newBucket(s.ip_burst, now), connects: newBucket(s.connect_burst_per_ip, now) };
    } else {
      this.#entries.delete(key);
    }
    this.#entries.set(key, entry);
    const retryAfterMs = takeToken(entry.connects, s.connect_rate_per_ip, s.connect_burst_per_ip, now);
    if (retryAfterMs > 0) return { ok: false, retryAfterMs };
    entry.open++;
    return { ok: true, bucket: entry.frames };
  }

  /** A connection admitted from `host` closed. */
  release(host: string): void {
    const entry = this.#entries.get(addressKey(host));
    if (entry !== undefined && entry.open > 0) entry.open--;
  }

  /** Forgets addresses with no open connection whose buckets have refilled by `now` (run from the periodic sweep). */
  sweep(now: number): void {
    const refillMs = this.#refillMs();
    for (const [key, entry] of this.#entries) {
      if (entry.open > 0) continue;
      const lastUsed = Math.max(entry.frames.tokensAt, entry.connects.tokensAt);
      if (now - lastUsed >= refillMs) this.#entries.delete(key);
    }
  }

  /** How long an unused entry takes to become as good as new. */
  #refillMs(): number {
    const s = this.settings;
    const frames = s.ip_rate_per_s > 0 ? (s.ip_burst / s.ip_rate_per_s) * 1000 : 0;
    const connects = s.connect_rate_per_ip > 0 ? (s.connect_burst_per_ip / s.connect_rate_per_ip) * 1000 : 0;
    return Math.max(frames, connects);
  }

  /**
   * Makes room by forgetting the least recently admitted address with no
   * open connection. Busy entries met on the way move to the end, so the
   * scan is amortised O(1). If every entry is busy the table grows past the
   * cap: busy entries are bounded by `max_connections`.
   */
  #evictIdle(): void {
    let budget = this.#entries.size;
    for (const [key, entry] of this.#entries) {
      if (budget-- <= 0) return;
      this.#entries.delete(key);
      if (entry.open === 0) return;
      this.#entries.set(key, entry);
    }
  }
}
