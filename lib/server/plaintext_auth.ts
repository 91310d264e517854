/**
 * The `plaintext_auth` rule: when the server offers TLS, a password sent over
 * plain TCP by a peer that is not on this machine is refused with
 * `tls_required` (setting `loopback`, the default), so that nobody's password
 * crosses a network in clear text. `allow` turns the check off. Without TLS
 * there is nothing better to offer and the check does not apply.
 *
 * The check looks at the decoded frame only, so it covers every frame that
 * carries a password (`hello`, `nick`, `register`, `passwd`, `drop`, ...) in
 * both dialects, whichever commands exist, without naming them.
 *
 * @example
 * ```ts
 * plaintextAuthRefusal({ tls_listen: "0.0.0.0:7443", plaintext_auth: "loopback" }, "tcp", "203.0.113.5",
 *   { type: "hello", nick: "ann", password: "hunter22" })?.code; // "tls_required"
 * ```
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { errorFrame, type ErrorFrame } from "../protocol/server_frames.ts";
import { isLoopback } from "./peer_limits.ts";

/** Frame fields that carry a password. */
export const PASSWORD_FIELDS: readonly string[] = ["password", "new_password"];

/** Whether `frame` carries a password in any of {@linkcode PASSWORD_FIELDS}. */
export function carriesPassword(frame: object): boolean {
  const fields = frame as Record<string, unknown>;
  return PASSWORD_FIELDS.some((field) => typeof fields[field] === "string");
}

/**
 * The `tls_required` error to answer `frame` with, or null when it may go on.
 * `transport` is how the frame arrived; `peerHost` the peer's numeric address;
 * `tlsPort` the TLS listener's real port (named in the message).
 */
export function plaintextAuthRefusal(
  settings: Pick<Settings, "tls_listen" | "plaintext_auth">,
  transport: "tcp" | "tls",
  peerHost: string,
  frame: object,
  tlsPort?: number,
): ErrorFrame | null {
  // On every frame of every connection: the common cases return after a comparison or two.
  if (transport === "tls" || settings.tls_listen === "" || settings.plaintext_auth === "allow") return null;
  if (isLoopback(peerHost) || !carriesPassword(frame)) return null;
  const id = (frame as { id?: unknown }).id;
  tlsPort ??= Number(settings.tls_listen.slice(settings.tls_listen.lastIndexOf(":") + 1));
  return errorFrame(
    "tls_required",
    `passwords are not accepted over plain TCP from another host: connect with TLS (port ${tlsPort})`,
    typeof id === "string" ? { id } : {},
  );
}
