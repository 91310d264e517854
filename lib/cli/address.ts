/**
 * `HOST:PORT` arguments of the client commands.
 *
 * @module
 */
import { CliError } from "./cli_error.ts";

/** The server a client command talks to when none is given. */
export const DEFAULT_ADDRESS = { host: "127.0.0.1", port: 7777 };

/** Parses `host:port`, `host`, `:port`, `[::1]:port`; `localhost` becomes 127.0.0.1. Throws {@linkcode CliError}. */
export function parseAddress(raw: string | undefined, usage: string): { host: string; port: number } {
  if (raw === undefined || raw === "") return { ...DEFAULT_ADDRESS };
  const match = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(raw);
  const port = match?.[3] === undefined ? DEFAULT_ADDRESS.port : Number(match[3]);
  if (!match || port < 1 || port > 65535) throw new CliError(`not a HOST:PORT address: ${raw}`, usage);
  const host = match[1] ?? (match[2] || DEFAULT_ADDRESS.host);
  return { host: host === "localhost" ? "127.0.0.1" : host, port };
}
