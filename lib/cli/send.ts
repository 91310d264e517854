/**
 * `tcpchat send`: connect, send one message (or each stdin line), wait for
 * the server's copy of each, leave. For scripts and cron jobs.
 *
 * Exit codes: 0 sent and acknowledged; 1 the server could not be reached or
 * the connection was lost; 2 bad usage; 3 the server refused (nick taken,
 * bad room, text too long, rate limited, ...), with its error code printed.
 *
 * @module
 */
import process from "node:process";
import * as readline from "node:readline";
import { ChatClient, ChatError } from "../client/chat_client.ts";
import type { Runtime } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { parseAddress } from "./address.ts";
import { parseCommandArgs } from "./args.ts";
import { CliError } from "./cli_error.ts";
import { clientPassword, clientTls, SECURITY_OPTIONS, SECURITY_USAGE } from "./client_security.ts";

const USAGE = `Usage: tcpchat send [HOST:PORT] --nick NAME --room ROOM [TEXT...]
                    [--tls] [--ca FILE] [--insecure] [--password-prompt]

Sends TEXT (or, without TEXT, each line of stdin) to ROOM and waits until the
server has accepted every message. Exit codes: 0 sent, 1 cannot reach the
server or connection lost, 2 bad usage, 3 refused by the server.

${SECURITY_USAGE}`;

/** Runs `send`; resolves with the exit code. */
export async function sendCommand(runtime: Runtime, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    nick: { type: "string", short: "n" },
    room: { type: "string", short: "r" },
    ...SECURITY_OPTIONS,
  }, USAGE);
  if (!values.nick) throw new CliError("--nick is required", USAGE);
  if (!values.room) throw new CliError("--room is required", USAGE);
  // The first positional is the address only if it looks like one; everything else is text.
  const looksLikeAddress = positionals.length > 0 && /^(\[[^\]]+\]|[\w.\-]*):\d+$/.test(positionals[0]);
  const { host, port } = parseAddress(looksLikeAddress ? positionals[0] : undefined, USAGE);
  const words = looksLikeAddress ? positionals.slice(1) : positionals;
  const lines = words.length > 0 ? [words.join(" ")] : null;

  const tls = await clientTls(runtime, values, USAGE);
  const password = await clientPassword(runtime, values, USAGE);
  const client = new ChatClient({
    runtime,
    host,
    port,
    nick: values.nick,
    reconnect: false,
    client: `tcpchat-send/${VERSION}`,
    tls,
    password,
  });
  try {
    await client.connect();
    await client.join(values.room);
    if (lines) {
      for (const line of lines) await client.send(values.room, line);
    } else {
      for await (const line of readline.createInterface({ input: process.stdin, terminal: false })) {
        if (line.trim() !== "") await client.send(values.room, line);
      }
    }
    await client.close();
    return 0;
  } catch (error) {
    await client.close().catch(() => {});
    const refused = error instanceof ChatError && error.code !== "disconnected" && error.code !== "timeout";
    console.error(`tcpchat send: ${refused ? "refused: " : ""}${(error as Error).message}`);
    return refused ? 3 : 1;
  }
}
