/**
 * `tcpchat account` against a cluster: the accounts in the cluster's Redis
 * (lib/cluster/redis_account_store.ts), the same records every node logs in
 * against. Unlike a data directory there is no lock to respect: nodes keep
 * no copy of an account, so a change holds on every node from the next
 * login on (a session already logged in keeps its login, as after `passwd`
 * through the server).
 *
 * Deleting an account also takes it off the operators of every room it
 * operated (as `drop` through a server does), telling every node that
 * follows those rooms.
 *
 * Redis that cannot be reached (at start, or lost mid-command) is a
 * {@linkcode CliError} with exit 2 and one line naming the URL without its
 * password.
 *
 * @module
 */
import type { AccountRecord, AccountStore, PasswordRecord } from "../store/account_store.ts";
import { StoreUnavailable } from "../store/types.ts";
import { RedisAccountStore } from "../cluster/redis_account_store.ts";
import { RedisLink } from "../cluster/redis_link.ts";
import { RedisRoomStateStore } from "../cluster/redis_room_state_store.ts";
import { CliError } from "./cli_error.ts";
import { redactedUrl } from "./serve_cluster.ts";

/** An open connection to the cluster's accounts; `close` when done. */
export interface ClusterAccounts {
  store: AccountStore;
  close(): Promise<void>;
}

/** The account store that also forgets a deleted account's operator roles. */
class ClusterAccountStore implements AccountStore {
  readonly #accounts: RedisAccountStore;
  readonly #rooms: RedisRoomStateStore;

  constructor(link: RedisLink) {
    this.#accounts = new RedisAccountStore(link);
    this.#rooms = new RedisRoomStateStore(link);
    // The room-state store reports instead of throwing (a server never waits for it); here the person must hear of it.
    this.#rooms.onWriteError = (error) => {
      throw error;
    };
  }

  get(key: string): Promise<AccountRecord | undefined> {
    return this.#accounts.get(key);
  }

  create(account: AccountRecord): Promise<boolean> {
    return this.#accounts.create(account);
  }

  setPassword(key: string, password: PasswordRecord): Promise<boolean> {
    return this.#accounts.setPassword(key, password);
  }

  async delete(key: string): Promise<boolean> {
    const account = await this.#accounts.get(key);
    if (!(await this.#accounts.delete(key))) return false;
    if (account) await this.#rooms.forgetOperator(account.name);
    return true;
  }

  list(): Promise<AccountRecord[]> {
    return this.#accounts.list();
  }
}

/** Connects to the cluster's Redis at `url`; throws {@linkcode CliError} (exit 2) when it cannot be reached. */
export async function openClusterAccounts(url: string): Promise<ClusterAccounts> {
  const link = await RedisLink.create(url);
  try {
    await link.connect();
  } catch (error) {
    await link.close();
    throw new CliError(`cannot reach the cluster's Redis at ${redactedUrl(url)}: ${(error as Error).message}`);
  }
  return { store: new ClusterAccountStore(link), close: () => link.close() };
}

/** Runs `work`, turning a Redis failure midway into a {@linkcode CliError} (exit 2) naming `url`. */
export async function withRedisErrors<T>(url: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StoreUnavailable) {
      throw new CliError(`the cluster's Redis at ${redactedUrl(url)} failed: ${error.message}; the change may not have been made`);
    }
    throw error;
  }
}
