/**
 * Where accounts live: a small interface and its in-memory implementation.
 *
 * Every method may answer at once (memory, SQLite) or with a promise (Redis,
 * after a round trip); callers handle both through {@linkcode Awaitable}, so a
 * synchronous store costs no extra turn of the event loop.
 *
 * Keys are nick keys (`nickKey` from lib/protocol/names.ts): the casefolded
 * form under which nicks are unique. The store never sees a password, only
 * the hash record made by the password hasher.
 *
 * The SQLite implementation (sqlite_account_store.ts) uses one table
 * (schema version 3, beside the rooms and messages ones):
 *
 * ```sql
 * CREATE TABLE accounts (
 *   key TEXT PRIMARY KEY,            -- nickKey(name); recompute from name if the key rules change
 *   name TEXT NOT NULL,
 *   password TEXT NOT NULL,          -- JSON of PasswordRecord
 *   email TEXT,
 *   created INTEGER NOT NULL
 * ) WITHOUT ROWID;
 * ```
 *
 * `create` is `INSERT ... ON CONFLICT DO NOTHING` (true when a row changed).
 * The contract suite in tests/support/store_contract.ts says what every
 * implementation must do.
 *
 * @example
 * ```ts
 * const store = new MemoryAccountStore();
 * store.create({ key: "ada", name: "Ada", password: record, created: Date.now() });
 * const ada = store.get("ada"); // AccountRecord | undefined
 * ```
 *
 * @module
 */

/** A value now, or later. */
export type { Awaitable } from "./types.ts";
import type { Awaitable } from "./types.ts";

/** A salted scrypt hash and the parameters it was made with (all a verifier needs). */
export interface PasswordRecord {
  /** Algorithm name; only `scrypt` is written today. */
  algo: "scrypt";
  /** CPU/memory cost (a power of two). */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
  /** Random salt, base64. */
  salt: string;
  /** Derived key, base64. */
  hash: string;
}

/** One account. */
export interface AccountRecord {
  /** Uniqueness key: the nick key of `name`. */
  key: string;
  /** The nick as registered (its display form). */
  name: string;
  password: PasswordRecord;
  /** Optional contact address given at registration. */
  email?: string;
  /** When it was registered (ms since epoch). */
  created: number;
}

/** The account seam: memory and SQLite (sqlite_account_store.ts) now, Redis later. */
export interface AccountStore {
  /** The account under `key`, if any. */
  get(key: string): Awaitable<AccountRecord | undefined>;
  /** Adds `account`; false (and nothing changed) when its key is taken. */
  create(account: AccountRecord): Awaitable<boolean>;
  /** Replaces the password of `key`; false when there is no such account. */
  setPassword(key: string, password: PasswordRecord): Awaitable<boolean>;
  /** Deletes `key`; false when there was no such account. */
  delete(key: string): Awaitable<boolean>;
  /** Every account, by key order (for `tcpchat account list`). */
  list(): Awaitable<AccountRecord[]>;
}

/** A copy sharing nothing with `account`, as a database would hand out. */
function copyAccount(account: AccountRecord): AccountRecord {
  return { ...account, password: { ...account.password } };
}

/** Accounts in a Map; lost when the process ends. Records go in and out as copies. */
export class MemoryAccountStore implements AccountStore {
  readonly #accounts = new Map<string, AccountRecord>();

  /** AccountStore. */
  get(key: string): AccountRecord | undefined {
    const account = this.#accounts.get(key);
    return account && copyAccount(account);
  }

  /** AccountStore. */
  create(account: AccountRecord): boolean {
    if (this.#accounts.has(account.key)) return false;
    this.#accounts.set(account.key, copyAccount(account));
    return true;
  }

  /** AccountStore. */
  setPassword(key: string, password: PasswordRecord): boolean {
    const account = this.#accounts.get(key);
    if (!account) return false;
    account.password = { ...password };
    return true;
  }

  /** AccountStore. */
  delete(key: string): boolean {
    return this.#accounts.delete(key);
  }

  /** AccountStore. */
  list(): AccountRecord[] {
    return [...this.#accounts.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(copyAccount);
  }
}
