/**
 * Which web pages may open `/ws`: the `Origin` header of an upgrade against
 * the `ws_origins` setting. Browsers always send `Origin`, so this stops a
 * page on another site from chatting in its visitors' name; programs send
 * none and are let in (they could forge it anyway).
 *
 * @module
 */

/**
 * Whether an upgrade with `origin` (null: no header) and `host` (the Host
 * header) is allowed by `allowed` (the `ws_origins` setting): `*` allows any;
 * empty allows only pages served by this host (same host and port); else a
 * comma-separated list of origins such as `https://chat.example.org`.
 *
 * @example
 * ```ts
 * originAllowed("http://127.0.0.1:7780", "127.0.0.1:7780", ""); // true
 * originAllowed("https://evil.example", "127.0.0.1:7780", ""); // false
 * ```
 */
export function originAllowed(origin: string | null, host: string | null, allowed: string): boolean {
  if (origin === null) return true;
  const list = allowed.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (list.includes("*")) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false; // "null" (sandboxed pages, files) or garbage.
  if (list.length === 0) return host !== null && new URL(normalized).host === host.toLowerCase();
  return list.some((item) => normalizeOrigin(item) === normalized);
}

/** `scheme://host[:port]` in lower case with default ports dropped, or null when it is not an origin. */
function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.origin.toLowerCase();
  } catch {
    return null;
  }
}
