/**
 * The Redis {@linkcode AccountStore}: every node of a cluster logs in against
 * the same accounts, and they outlive every node. All accounts are one hash
 * (`tc:accounts`, account key to the JSON record), so each method is exactly
 * one command: `get` HGET, `create` HSETNX, `setPassword` one EVAL (read,
 * change, write inside Redis), `delete` HDEL, `list` HGETALL (the CLI's
 * listing; it reads every account).
 *
 * @module
 */
import type { AccountRecord, AccountStore, PasswordRecord } from "../store/account_store.ts";
import { ACCOUNTS_KEY } from "./redis_keys.ts";
import type { RedisLink, Reply } from "./redis_link.ts";

/** KEYS: accounts. ARGV: key, password JSON. Replaces the password; 0 when there is no such account. */
const SET_PASSWORD = `
local json = redis.call('hget', KEYS[1], ARGV[1])
if not json then return 0 end
local account = cjson.decode(json)
account.password = cjson.decode(ARGV[2])
redis.call('hset', KEYS[1], ARGV[1], cjson.encode(account))
return 1
`;

/** A hash reply's values, whichever shape the client gave them (a flat array or an object). */
function hashValues(reply: Reply): string[] {
  if (!Array.isArray(reply)) return Object.values((reply ?? {}) as Record<string, string>);
  return reply.filter((_, i) => i % 2 === 1).map(String);
}

/** Accounts in Redis, shared by every node. */
export class RedisAccountStore implements AccountStore {
  constructor(readonly link: RedisLink) {}

  /** AccountStore: one HGET. */
  async get(key: string): Promise<AccountRecord | undefined> {
    const json = await this.link.call(["HGET", ACCOUNTS_KEY, key]);
    return typeof json === "string" ? JSON.parse(json) as AccountRecord : undefined;
  }

  /** AccountStore: one HSETNX, so two nodes registering one nick at once make one account. */
  async create(account: AccountRecord): Promise<boolean> {
    return (await this.link.call(["HSETNX", ACCOUNTS_KEY, account.key, JSON.stringify(account)])) === 1;
  }

  /** AccountStore: one EVAL. */
  async setPassword(key: string, password: PasswordRecord): Promise<boolean> {
    return (await this.link.call(["EVAL", SET_PASSWORD, 1, ACCOUNTS_KEY, key, JSON.stringify(password)])) === 1;
  }

  /** AccountStore: one HDEL. */
  async delete(key: string): Promise<boolean> {
    return (await this.link.call(["HDEL", ACCOUNTS_KEY, key])) === 1;
  }

  /** AccountStore: one HGETALL. */
  async list(): Promise<AccountRecord[]> {
    const accounts = hashValues(await this.link.call(["HGETALL", ACCOUNTS_KEY])).map((json) => JSON.parse(json) as AccountRecord);
    return accounts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
