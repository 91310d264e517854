/**
 * The behaviour every account store and room-state store must have, as one
 * suite per interface: run against the memory and SQLite stores (and, later,
 * Redis) by a factory each in tests/unit/store_contract.test.ts.
 */
import { describe, expect, test } from "bun:test";
import type { AccountRecord, AccountStore } from "../../lib/store/account_store.ts";
import { defaultModes, type RoomStateStore } from "../../lib/store/room_state_store.ts";

const password = { algo: "scrypt", N: 1024, r: 8, p: 1, salt: "c2FsdA==", hash: "aGFzaA==" } as const;
const account = (key: string, name = key): AccountRecord => ({ key, name, password: { ...password }, created: 1 });

/** Registers the account-store contract for a store made by `make` (fresh and empty each time). */
export function accountStoreContract(name: string, make: () => AccountStore | Promise<AccountStore>): void {
  describe(`account store contract (${name})`, () => {
    test("create, get, list; a taken key is refused and changes nothing", async () => {
      const store = await make();
      expect(await store.get("ada")).toBeUndefined();
      expect(await store.create({ ...account("ada", "Ada"), email: "ada@example.org" })).toBe(true);
      expect(await store.create(account("ada", "ADA"))).toBe(false);
      expect(await store.get("ada")).toMatchObject({ key: "ada", name: "Ada", email: "ada@example.org", password });
      await store.create(account("bob"));
      expect((await store.list()).map((a) => a.key)).toEqual(["ada", "bob"]);
    });

    test("setPassword replaces only the password; delete removes; both say whether the account existed", async () => {
      const store = await make();
      await store.create(account("ada"));
      const next = { ...password, salt: "bmV3", hash: "bmV3aGFzaA==" };
      expect(await store.setPassword("ada", next)).toBe(true);
      expect(await store.setPassword("nobody", next)).toBe(false);
      expect(await store.get("ada")).toMatchObject({ name: "ada", password: next, created: 1 });
      expect(await store.delete("ada")).toBe(true);
      expect(await store.delete("ada")).toBe(false);
      expect(await store.get("ada")).toBeUndefined();
    });

    test("a record read back is a copy: changing it changes nothing stored", async () => {
      const store = await make();
      const record = account("ada");
      await store.create(record);
      record.name = "changed";
      const read = (await store.get("ada"))!;
      read.password.hash = "changed";
      expect(await store.get("ada")).toMatchObject({ name: "ada", password });
    });
  });
}

/** Registers the room-state-store contract for a store made by `make` (fresh and empty each time). */
export function roomStateStoreContract(name: string, make: () => RoomStateStore | Promise<RoomStateStore>): void {
  describe(`room state store contract (${name})`, () => {
    test("a room nothing was kept for loads as undefined; each change is kept", async () => {
      const store = await make();
      expect(await store.load("den")).toBeUndefined();
      await store.setTopic("den", { text: "hi", by: "ada", ts: 5 });
      expect(await store.load("den")).toEqual({
        topic: { text: "hi", by: "ada", ts: 5 },
        modes: defaultModes(),
        operators: [],
        bans: [],
      });
      await store.setModes("den", { invite_only: true, key: "k", topic_lock: false });
      await store.setOperator("den", "Ada", true);
      await store.setOperator("den", "bob", true);
      await store.setOperator("den", "bob", false);
      await store.addBan("den", { mask: "nick:eve", by: "Ada", ts: 6, reason: "spam" });
      await store.addBan("den", { mask: "nick:eve", by: "Ada", ts: 7, reason: "again" });
      await store.addBan("den", { mask: "account:mal", by: "Ada", ts: 8, reason: "" });
      await store.removeBan("den", "account:mal");
      await store.setTopic("den", null);
      expect(await store.load("den")).toEqual({
        topic: null,
        modes: { invite_only: true, key: "k", topic_lock: false },
        operators: ["Ada"],
        bans: [{ mask: "nick:eve", by: "Ada", ts: 7, reason: "again" }],
      });
      expect(await store.load("other")).toBeUndefined();
    });

    test("forgetOperator removes an account from every room's operators", async () => {
      const store = await make();
      await store.setOperator("a", "ada", true);
      await store.setOperator("b", "ada", true);
      await store.setOperator("b", "bob", true);
      await store.forgetOperator("ada");
      expect((await store.load("a"))?.operators).toEqual([]);
      expect((await store.load("b"))?.operators).toEqual(["bob"]);
    });
  });
}
