/**
 * The work behind `tcpchat account add|passwd|del|list`, over any
 * {@linkcode AccountStore} and {@linkcode PasswordHasher}. Opening the data
 * directory's store (and refusing while a server holds its lock) is the
 * caller's part: this module is store-agnostic so it can be tested on the
 * memory store.
 *
 * Passwords are read through `io.readPassword` (a prompt without echo on a
 * terminal, `TCPCHAT_PASSWORD`, or a line of stdin), never from a flag.
 *
 * Exit codes: 0 done, 2 bad usage, 3 refused (no such account, name taken,
 * invalid name, weak password).
 *
 * @module
 */
import type { PasswordHasher } from "../hub/password_hasher.ts";
import { passwordProblem } from "../hub/password_rules.ts";
import { nickKey, nickProblem } from "../protocol/names.ts";
import { serviceHolding } from "../protocol/service_nicks.ts";
import type { AccountStore } from "../store/account_store.ts";
import { parseCommandArgs } from "./args.ts";
import { CliError } from "./cli_error.ts";

/** Usage of `tcpchat account`. */
export const ACCOUNT_USAGE = `Usage: tcpchat account add NAME [--email ADDRESS]
       tcpchat account passwd NAME
       tcpchat account del NAME
       tcpchat account list

Manages accounts in the data directory, for servers with registration closed.
The password is read from TCPCHAT_PASSWORD, else asked for twice without
echo on a terminal, else read from the first line of stdin; never from an argument. Exit codes: 0 done,
2 bad usage, 3 refused.`;

/** What the command reads and writes besides the store. */
export interface AccountAdminIo {
  /** Reads a password (prompting `question` when a person is there). */
  readPassword(question: string): Promise<string>;
  out(line: string): void;
  err(line: string): void;
  now(): number;
}

/** Runs one `tcpchat account` command; resolves with the exit code. */
export async function accountAdmin(
  args: string[],
  store: AccountStore,
  hasher: PasswordHasher,
  io: AccountAdminIo,
  passwordMinLength: number,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { email: { type: "string" } }, ACCOUNT_USAGE);
  const [verb, name, extra] = positionals;
  // Not repeated back: a third argument is most likely a password typed where it is never taken.
  if (extra !== undefined) throw new CliError("too many arguments (a password is never taken as an argument)", ACCOUNT_USAGE);
  if (verb === "list") {
    if (name !== undefined) throw new CliError(`unexpected argument ${name}`, ACCOUNT_USAGE);
    for (const a of await store.list()) {
      io.out([a.name, new Date(a.created).toISOString(), a.email ?? ""].join("\t").trimEnd());
    }
    return 0;
  }
  if (verb !== "add" && verb !== "passwd" && verb !== "del") throw new CliError(`unknown account command ${verb ?? "(none)"}`, ACCOUNT_USAGE);
  if (name === undefined) throw new CliError(`tcpchat account ${verb} needs a NAME`, ACCOUNT_USAGE);
  if (values.email !== undefined && verb !== "add") throw new CliError("--email goes with add", ACCOUNT_USAGE);
  const refuse = (message: string) => {
    io.err(`tcpchat account ${verb}: ${message}`);
    return 3;
  };
  const key = nickKey(name);
  const existing = await store.get(key);
  if (verb === "del") {
    if (!existing) return refuse(`no account ${name}`);
    await store.delete(key);
    io.out(`deleted ${existing.name}`);
    return 0;
  }
  if (verb === "add") {
    const problem = nickProblem(name);
    if (problem) return refuse(problem);
    const service = serviceHolding(name, key);
    if (service) return refuse(`${name} is held by the ${service} service`);
    if (existing) return refuse(`${existing.name} is already registered`);
  } else if (!existing) return refuse(`no account ${name}`);
  const password = await io.readPassword(`password for ${existing?.name ?? name}: `);
  const weak = passwordProblem(password, name, passwordMinLength);
  if (weak) return refuse(weak);
  const record = await hasher.hash(password);
  if (verb === "passwd") {
    await store.setPassword(key, record);
    io.out(`password of ${existing!.name} changed`);
    return 0;
  }
  const created = await store.create({
    key,
    name,
    password: record,
    created: io.now(),
    ...(values.email !== undefined ? { email: values.email } : {}),
  });
  if (!created) return refuse(`${name} is already registered`);
  io.out(`added ${name}`);
  return 0;
}
