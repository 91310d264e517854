/**
 * The options `tcpchat connect` and `tcpchat send` share for TLS and
 * passwords: `--tls`, `--ca FILE`, `--insecure`, and the password from
 * `TCPCHAT_PASSWORD` or a prompt that does not echo (`--password-prompt`).
 * There is deliberately no `--password VALUE`: a password typed as an
 * argument ends up in the shell history and in `ps` output.
 *
 * @module
 */
import process from "node:process";
import type { ChatClientOptions } from "../client/chat_client.ts";
import type { Runtime } from "../runtime/types.ts";
import { CliError } from "./cli_error.ts";

/** The environment variable a password is read from. */
export const PASSWORD_ENV = "TCPCHAT_PASSWORD";

/** `parseArgs` options for the flags below. */
export const SECURITY_OPTIONS = {
  tls: { type: "boolean" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
  "password-prompt": { type: "boolean" },
} as const;

/** Usage lines for the flags below. */
export const SECURITY_USAGE = `TLS and passwords:
  --tls                connect over TLS, verifying the server against the system's CAs
  --ca FILE            trust the CA certificate(s) in FILE (PEM) instead; implies --tls
  --insecure           TLS without checking the certificate (testing only); implies --tls
  --password-prompt    ask for the nick's password on the terminal, without echo
  The password can also come from the ${PASSWORD_ENV} environment variable.
  It is never accepted as an argument, so it stays out of shell history.`;

/** What the flags above were given as. */
export interface SecurityValues {
  tls?: boolean;
  ca?: string;
  insecure?: boolean;
  "password-prompt"?: boolean;
}

/** The client's `tls` option from the flags (reading the CA file); undefined for plain TCP. */
export async function clientTls(runtime: Runtime, values: SecurityValues, usage: string): Promise<ChatClientOptions["tls"]> {
  if (values.ca !== undefined && values.insecure) throw new CliError("--ca and --insecure do not go together", usage);
  if (values.insecure) return { insecure: true };
  if (values.ca !== undefined) {
    try {
      return { ca: await runtime.readTextFile(values.ca) };
    } catch (error) {
      throw new CliError(`cannot read --ca ${values.ca}: ${(error as Error).message}`);
    }
  }
  return values.tls ? {} : undefined;
}

/**
 * The password to send, if any: prompted for with `--password-prompt` (stdin
 * must be a terminal), else `TCPCHAT_PASSWORD`, else none.
 */
export async function clientPassword(runtime: Runtime, values: SecurityValues, usage: string): Promise<string | undefined> {
  if (values["password-prompt"]) {
    if (!runtime.isTerminal("stdin")) {
      throw new CliError(`--password-prompt needs a terminal; set ${PASSWORD_ENV} instead`, usage);
    }
    return await promptHidden("password: ");
  }
  const fromEnv = runtime.env(PASSWORD_ENV);
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

/**
 * Reads one line from the terminal with echo off (raw mode), showing nothing
 * for the typed characters. Enter ends it; Backspace erases; Ctrl-C or Ctrl-D
 * cancels with a {@linkcode CliError}.
 */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of String(chunk)) {
        if (char === "\r" || char === "\n") {
          finish();
          return resolve(typed.join(""));
        }
        if (char === "\u0003" || char === "\u0004") {
          finish();
          typed = [];
          return reject(new CliError("password prompt cancelled"));
        }
        if (char === "\u007f" || char === "\b") typed.pop();
        else typed.push(char);
      }
    };
    stdin.setRawMode(true);
    stdin.on("data", onData);
    stdin.resume();
  });
}
