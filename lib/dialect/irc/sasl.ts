/**
 * SASL PLAIN (RFC 4616) as IRC carries it (IRCv3 sasl 3.1): the client sends
 * `AUTHENTICATE PLAIN`, the server `AUTHENTICATE +`, the client its
 * credentials base64-encoded in chunks of 400 bytes (a chunk shorter than
 * 400, or `+`, ends them). Pure: the handler checks the password with the
 * hub.
 *
 * @module
 */

/** The only mechanism offered (`sasl=PLAIN`). */
export const SASL_MECHANISMS = "PLAIN";
/** A chunk of exactly this length means more follow. */
export const SASL_CHUNK = 400;
/** Most base64 accepted for one exchange (ERR_SASLTOOLONG past it). */
export const MAX_SASL_BYTES = 2000;

/** A PLAIN exchange in progress. */
export interface SaslExchange {
  /** Base64 gathered so far. */
  data: string;
}

/** The credentials in a PLAIN message, or why not. */
export type PlainCredentials = { authzid: string; authcid: string; password: string } | { problem: string };

/** Decodes `authzid NUL authcid NUL password` from base64. */
export function decodePlain(base64: string): PlainCredentials {
  let bytes: Uint8Array;
  try {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return { problem: "not base64" };
    const binary = atob(base64);
    bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return { problem: "not base64" };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { problem: "not UTF-8" };
  }
  const parts = text.split("\0");
  if (parts.length !== 3) return { problem: "PLAIN is authzid NUL authcid NUL password" };
  const [authzid, authcid, password] = parts;
  if (authcid === "" || password === "") return { problem: "empty account or password" };
  // Logging in as someone else (authzid) needs privileges nobody has here.
  if (authzid !== "" && authzid !== authcid) return { problem: "authzid must be empty or the account itself" };
  return { authzid, authcid, password };
}
