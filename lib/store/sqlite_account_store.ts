/**
 * {@linkcode AccountStore} over the data directory's database (table
 * `accounts`; schema.ts).
 *
 * Unlike messages and room state, account writes commit at once, each in its
 * own transaction, before the method returns: the hub waits for the answer
 * (`create` says whether the name was free) and only then sends the `account`
 * frame, so a registration, password change or drop is acknowledged only
 * once it is on disk. They are rare (each follows a scrypt hash of ~50 ms),
 * so a commit apiece costs nothing that matters. A write that fails (a full
 * disk) answers a rejected promise with {@linkcode StoreUnavailable}, which
 * the hub turns into `error` `unavailable`; so does any write while the
 * message store refuses writes.
 *
 * Deleting an account also deletes it from every room's operators in the
 * same transaction, so a crash can never leave a room operated by a name
 * anyone could register again.
 *
 * @module
 */
import type { SqliteDb, SqliteStatement } from "../runtime/sqlite.ts";
import type { AccountRecord, AccountStore, PasswordRecord } from "./account_store.ts";
import { RETRY_MS, type SqliteStore } from "./sqlite_store.ts";
import { StoreUnavailable } from "./types.ts";

interface AccountRow {
  key: string;
  name: string;
  password: string;
  email: string | null;
  created: number;
}

function toRecord(row: AccountRow): AccountRecord {
  const account: AccountRecord = { key: row.key, name: row.name, password: JSON.parse(row.password), created: row.created };
  if (row.email !== null) account.email = row.email;
  return account;
}

/** Accounts in SQLite; every write committed before it answers. */
export class SqliteAccountStore implements AccountStore {
  readonly #q: Record<"get" | "create" | "setPassword" | "delete" | "forgetOps" | "list", SqliteStatement>;

  /**
   * `messages` is the message store sharing `db`, when there is one (a server):
   * its pending batch is committed before an account write, and while it
   * refuses writes so do accounts. `onFailure` reports errors (for the log).
   */
  constructor(
    readonly db: SqliteDb,
    readonly messages?: SqliteStore,
    readonly onFailure?: (message: string) => void,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      get: p("SELECT key, name, password, email, created FROM accounts WHERE key = ?"),
      create: p("INSERT INTO accounts (key, name, password, email, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
      setPassword: p("UPDATE accounts SET password = ? WHERE key = ?"),
      delete: p("DELETE FROM accounts WHERE key = ? RETURNING name"),
      forgetOps: p("DELETE FROM room_operators WHERE account = ?"),
      list: p("SELECT key, name, password, email, created FROM accounts ORDER BY key"),
    };
  }

  /** AccountStore. */
  get(key: string): AccountRecord | undefined | Promise<never> {
    return this.#do(`read account ${key}`, () => {
      const row = this.#q.get.get<AccountRow>(key);
      return row && toRecord(row);
    });
  }

  /** AccountStore. */
  create(account: AccountRecord): boolean | Promise<never> {
    return this.#write(`create account ${account.key}`, () =>
      this.#q.create.run(
        account.key,
        account.name,
        JSON.stringify(account.password),
        account.email ?? null,
        account.created,
      ).changes > 0);
  }

  /** AccountStore. */
  setPassword(key: string, password: PasswordRecord): boolean | Promise<never> {
    return this.#write(`change password of ${key}`, () => this.#q.setPassword.run(JSON.stringify(password), key).changes > 0);
  }

  /** AccountStore; also takes the account out of every room's operators, in the same transaction. */
  delete(key: string): boolean | Promise<never> {
    return this.#write(`delete account ${key}`, () => {
      this.db.exec("BEGIN");
      try {
        const row = this.#q.delete.get<{ name: string }>(key);
        if (row) this.#q.forgetOps.run(row.name);
        this.db.exec("COMMIT");
        return row !== undefined;
      } catch (error) {
        try {
          this.db.exec("ROLLBACK");
        } catch { /* already rolled back */ }
        throw error;
      }
    });
  }

  /** AccountStore. */
  list(): AccountRecord[] | Promise<never> {
    return this.#do("list accounts", () => this.#q.list.all<AccountRow>().map(toRecord));
  }

  /** A write: refused while the message store refuses writes; the message batch goes first, keeping order. */
  #write<T>(what: string, run: () => T): T | Promise<never> {
    if (this.messages?.unavailable) return this.#unavailable();
    if (this.messages && !this.messages.flush()) return this.#unavailable();
    return this.#do(what, run);
  }

  #do<T>(what: string, run: () => T): T | Promise<never> {
    try {
      return run();
    } catch (error) {
      this.onFailure?.(`cannot ${what}: ${(error as Error).message}`);
      return this.#unavailable();
    }
  }

  #unavailable(): Promise<never> {
    return Promise.reject(new StoreUnavailable("accounts cannot be stored right now (the disk is full or failing)", RETRY_MS));
  }
}
