/**
 * Connections per remote address, for `max_per_ip`. Loopback is exempt by
 * default so local tools and tests are never refused.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";

/** Whether `host` is a loopback address (127.0.0.0/8 or ::1). */
export function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host.startsWith("::ffff:127.");
}

/** Open connection counts by address. */
export class PeerLimits {
  readonly #open = new Map<string, number>();

  constructor(readonly settings: Pick<Settings, "max_per_ip" | "per_ip_exempt_loopback">) {}

  /** Whether one more connection from `host` is allowed. */
  admits(host: string): boolean {
    if (this.settings.per_ip_exempt_loopback && isLoopback(host)) return true;
    return (this.#open.get(host) ?? 0) < this.settings.max_per_ip;
  }

  /** Counts a connection from `host`. */
  add(host: string): void {
    this.#open.set(host, (this.#open.get(host) ?? 0) + 1);
  }

  /** Uncounts a connection from `host`. */
  remove(host: string): void {
    const left = (this.#open.get(host) ?? 1) - 1;
    if (left > 0) this.#open.set(host, left);
    else this.#open.delete(host);
  }
}
