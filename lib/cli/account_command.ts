/**
 * `tcpchat account add|passwd|del|list [--data-dir DIR | --cluster URL]`:
 * the account commands (lib/cli/account_admin.ts) on a data directory's
 * database, or on a cluster's Redis (account_cluster.ts; chosen as
 * account_target.ts says, as `serve` chooses its store).
 *
 * A data directory only while no server runs: the command takes the directory's lock, and
 * while a server holds it refuses with one sentence (exit 2) saying to stop
 * the server or to register through it. (Working beside a running server
 * would let the two disagree: the server caches nothing about accounts, but
 * it holds the lock so that nothing else writes its database.)
 *
 * The password comes from `TCPCHAT_PASSWORD`, else a prompt without echo on
 * a terminal (asked twice), else the first line of stdin; never from an
 * argument. It is read before the lock is taken, so a prompt left waiting
 * does not keep a server from starting. It is
 * hashed with the server's own scrypt parameters (ScryptHasher's defaults).
 *
 * @module
 */
import process from "node:process";
import { defaultSettings, parseSetting } from "../config/settings.ts";
import type { Runtime } from "../runtime/types.ts";
import { ScryptHasher } from "../server/scrypt_hasher.ts";
import { openDataDirOffline, StoreOpenError } from "../store/data_dir.ts";
import { SqliteAccountStore } from "../store/sqlite_account_store.ts";
import { ACCOUNT_USAGE, accountAdmin } from "./account_admin.ts";
import { parseCommandArgs } from "./args.ts";
import { CliError } from "./cli_error.ts";
import { PASSWORD_ENV, promptHidden } from "./client_security.ts";
import { openClusterAccounts, withRedisErrors } from "./account_cluster.ts";
import { resolveAccountTarget, takeTargetOptions } from "./account_target.ts";

/** Longest stdin line taken as a password (far above any password a server accepts). */
const MAX_LINE = 64 * 1024;

/** Usage of `tcpchat account` with the data directory option. */
export const ACCOUNT_COMMAND_USAGE = ACCOUNT_USAGE.replace(
  "\nManages accounts",
  `
Options:
  --data-dir DIR   the server's data directory [TCPCHAT_DATA_DIR, else tcpchat-data]
  --cluster URL    the cluster's Redis (redis:// or rediss://) instead [TCPCHAT_CLUSTER]
  --config FILE    read data_dir and cluster from FILE [TCPCHAT_CONFIG, else ./tcpchat.toml]
  --email ADDRESS  contact address kept with a new account (add only)

Manages accounts`,
) + `

With a data directory, works only while no server runs on DIR (exit 2
otherwise); a running server takes new accounts through register (or
/register) instead. With a cluster (--cluster, or cluster set in the
environment or config file), works while the nodes run: every node logs
in against the accounts in Redis (exit 2 when Redis cannot be reached).
Passwords are checked against TCPCHAT_PASSWORD_MIN_LENGTH when set,
else the default minimum of ${defaultSettings().password_min_length}.`;

/** Runs `tcpchat account`; resolves with the exit code. */
export async function accountCommand(runtime: Runtime, args: string[]): Promise<number> {
  const usage = ACCOUNT_COMMAND_USAGE;
  const rest = [...args];
  const options = takeTargetOptions(rest, usage);
  // Usage mistakes (and --help) are reported before the directory or Redis is touched.
  const { positionals } = parseCommandArgs(rest, { email: { type: "string" } }, usage);
  const verb = positionals[0];
  if (verb !== "add" && verb !== "passwd" && verb !== "del" && verb !== "list") {
    throw new CliError(`unknown account command ${verb ?? "(none)"}`, usage);
  }
  const target = await resolveAccountTarget(runtime, options, usage);
  if ("dir" in target && target.dir === "") {
    throw new CliError("--data-dir is empty: accounts of a memory-only server live and die with it", usage);
  }
  const minLength = passwordMinLength(runtime);
  const io = {
    readPassword: (question: string) => readPassword(runtime, question),
    out: (line: string) => console.log(line),
    err: (line: string) => console.error(line),
    now: Date.now,
  };
  if ("cluster" in target) {
    // Redis is reached first (it holds no lock a prompt could keep): nobody types a password only to hear Redis is down.
    const url = target.cluster;
    const opened = await openClusterAccounts(url);
    try {
      return await withRedisErrors(url, () => accountAdmin(rest, opened.store, new ScryptHasher(), io, minLength));
    } finally {
      await opened.close();
    }
  }
  // Asked before the lock is taken: a person typing must not keep a server from starting meanwhile.
  const name = positionals[1];
  const early = (verb === "add" || verb === "passwd") && name !== undefined && positionals.length === 2
    ? await readPassword(runtime, `password for ${name}: `)
    : undefined;
  if (early !== undefined) io.readPassword = () => Promise.resolve(early);
  const dir = target.dir;
  let opened;
  try {
    opened = await openDataDirOffline(
      dir,
      verb === "add",
      `data directory ${dir} is in use by a running tcpchat server; stop the server first, or register through the server (register, or /register in tcpchat connect)`,
    );
  } catch (error) {
    if (error instanceof StoreOpenError) throw new CliError(error.message);
    throw error;
  }
  try {
    return await accountAdmin(rest, new SqliteAccountStore(opened.db), new ScryptHasher(), io, minLength);
  } finally {
    opened.close();
  }
}

function passwordMinLength(runtime: Runtime): number {
  const raw = runtime.env("TCPCHAT_PASSWORD_MIN_LENGTH");
  if (raw === undefined || raw === "") return defaultSettings().password_min_length;
  try {
    return parseSetting("password_min_length", raw);
  } catch (error) {
    throw new CliError(`TCPCHAT_PASSWORD_MIN_LENGTH: ${(error as Error).message}`);
  }
}

/** `TCPCHAT_PASSWORD`, else a prompt without echo on a terminal, else stdin's first line. */
async function readPassword(runtime: Runtime, question: string): Promise<string> {
  const fromEnv = runtime.env(PASSWORD_ENV);
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (runtime.isTerminal("stdin")) {
    // Typed unseen, so typed twice: a slip would otherwise set a password nobody knows.
    const first = await promptHidden(question);
    const again = await promptHidden("again: ");
    if (first !== again) throw new CliError("the two passwords differ; nothing was changed", undefined, 3);
    return first;
  }
  return await readStdinLine();
}

/** The first line of stdin (without its line end), or all of it when it has none. */
function readStdinLine(): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let text = "";
    const finish = (result: () => void) => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.pause();
      result();
    };
    const onData = (chunk: Buffer | string) => {
      text += String(chunk);
      const end = text.indexOf("\n");
      if (end >= 0) return finish(() => resolve(text.slice(0, end).replace(/\r$/, "")));
      if (text.length > MAX_LINE) finish(() => reject(new CliError(`the password line on stdin is longer than ${MAX_LINE} bytes`)));
    };
    const onEnd = () => finish(() => resolve(text.replace(/\r$/, "")));
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.resume();
  });
}
