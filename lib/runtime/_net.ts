/**
 * Address normalisation and error shaping shared by the three adapters, so a
 * refused connection or a reset reads the same whichever runtime hit it.
 *
 * @module
 */

import type { CloseReason, NetAddr } from "./types.ts";

/** Stable codes on the errors this layer creates. */
export type NetErrorCode =
  | "connection_refused"
  | "connect_failed"
  | "address_in_use"
  | "listen_failed"
  | "connection_closed"
  | "tls_failed"
  | "bad_certificate";

/** An `Error` with a stable, searchable `code`. */
export interface NetError extends Error {
  /** What went wrong, e.g. `connection_refused`. */
  code: NetErrorCode;
}

/** Builds a {@linkcode NetError}, keeping the runtime's error as `cause`. */
export function netError(code: NetErrorCode, message: string, cause?: unknown): NetError {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as NetError;
  error.code = code;
  return error;
}

/**
 * Strips the IPv4-mapped prefix a dual-stack socket reports (`::ffff:1.2.3.4`)
 * so peers look the same whether the listener bound `::` or `0.0.0.0`.
 */
export function normalizeHostname(hostname: string): string {
  return hostname.startsWith("::ffff:") && hostname.includes(".") ? hostname.slice(7) : hostname;
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddr(addr: NetAddr): string {
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}

/** The runtime's code for an error: Node/Bun `code`, else Deno's class name. */
function errorCode(error: unknown): string {
  if (typeof error !== "object" || error === null) return "";
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code !== "") return code;
  return (error as { name?: unknown }).name === undefined ? "" : String((error as { name: unknown }).name);
}

const RESET_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ConnectionReset",
  "BrokenPipe",
  "ConnectionAborted",
]);

/** True when the runtime error means the peer reset the connection. */
export function isResetError(error: unknown): boolean {
  return RESET_CODES.has(errorCode(error));
}

/** Maps a runtime error seen while the connection was open to a {@linkcode CloseReason}. */
export function closeReasonOf(error: unknown): CloseReason {
  if (isResetError(error)) return "reset";
  return error instanceof Error ? error : new Error(String(error));
}

/** The error a failed `connect` rejects with: says what happened and to which address. */
export function connectError(addr: NetAddr, cause: unknown): NetError {
  const code = errorCode(cause);
  const what = `connect to ${formatAddr(addr)}`;
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") {
    return netError("connection_refused", `${what} failed: connection refused (ECONNREFUSED)`, cause);
  }
  const detail = cause instanceof Error ? cause.message : String(cause);
  return netError("connect_failed", `${what} failed: ${detail}${code ? ` (${code})` : ""}`, cause);
}

/** The error a failed `listen` or `serveHttp` rejects with. */
export function listenError(addr: NetAddr, cause: unknown): NetError {
  const code = errorCode(cause);
  const what = `listen on ${formatAddr(addr)}`;
  if (code === "EADDRINUSE" || code === "AddrInUse") {
    return netError("address_in_use", `${what} failed: address already in use (EADDRINUSE)`, cause);
  }
  const detail = cause instanceof Error ? cause.message : String(cause);
  return netError("listen_failed", `${what} failed: ${detail}${code ? ` (${code})` : ""}`, cause);
}

/** The error pending and later writes reject with once the connection is gone. */
export function connectionClosedError(cause?: unknown): NetError {
  return netError("connection_closed", "connection closed before the write completed", cause);
}
