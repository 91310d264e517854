import { describe, expect, test } from "bun:test";
import { accountAdmin, type AccountAdminIo } from "../../lib/cli/account_admin.ts";
import { CliError } from "../../lib/cli/cli_error.ts";
import { ScryptHasher } from "../../lib/server/scrypt_hasher.ts";
import { MemoryAccountStore } from "../../lib/store/account_store.ts";

function io(passwords: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const value: AccountAdminIo = {
    readPassword: (question) => {
      asked.push(question);
      return Promise.resolve(passwords.shift() ?? "");
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    now: () => Date.UTC(2026, 0, 2),
  };
  return { io: value, out, err, asked };
}

const hasher = new ScryptHasher({ N: 1024 });

describe("tcpchat account (on any store)", () => {
  test("add, list, passwd, del; the stored hash verifies the password", async () => {
    const store = new MemoryAccountStore();
    const a = io(["first-password"]);
    expect(await accountAdmin(["add", "Ada", "--email", "ada@example.org"], store, hasher, a.io, 8)).toBe(0);
    expect(a.out).toEqual(["added Ada"]);
    expect(a.asked).toEqual(["password for Ada: "]);
    expect(await hasher.verify("first-password", store.get("ada")!.password)).toBe(true);
    const l = io([]);
    expect(await accountAdmin(["list"], store, hasher, l.io, 8)).toBe(0);
    expect(l.out).toEqual(["Ada\t2026-01-02T00:00:00.000Z\tada@example.org"]);
    const p = io(["second-password"]);
    expect(await accountAdmin(["passwd", "ADA"], store, hasher, p.io, 8)).toBe(0);
    expect(await hasher.verify("second-password", store.get("ada")!.password)).toBe(true);
    const d = io([]);
    expect(await accountAdmin(["del", "ada"], store, hasher, d.io, 8)).toBe(0);
    expect(store.get("ada")).toBeUndefined();
  });

  test("refusals exit 3 with the reason; mistakes in usage exit 2", async () => {
    const store = new MemoryAccountStore();
    await accountAdmin(["add", "bob"], store, hasher, io(["bob-password"]).io, 8);
    const cases: [string[], string[], RegExp][] = [
      [["add", "bob"], ["another-pw"], /already registered/],
      [["add", "al ice"], ["another-pw"], /nick may contain only/],
      [["add", "nickserv"], ["another-pw"], /held by the NickServ service/],
      [["add", "carl"], ["short"], /at least 8 characters/],
      [["add", "carlos8x"], ["Carlos8x"], /must not be the nick/],
      [["passwd", "nobody"], ["whatever-pw"], /no account nobody/],
      [["del", "nobody"], [], /no account nobody/],
    ];
    for (const [args, passwords, message] of cases) {
      const run = io(passwords);
      expect({ args, code: await accountAdmin(args, store, hasher, run.io, 8) }).toEqual({ args, code: 3 });
      expect(run.err.join("\n")).toMatch(message);
      expect(run.err.join("\n")).not.toContain(passwords[0] ?? "\u0000");
    }
    for (const args of [["frob"], [], ["add"], ["list", "x"], ["del", "bob", "--email", "x@y"], ["add", "x", "y"]]) {
      const error = await accountAdmin(args, store, hasher, io([]).io, 8).catch((e) => e);
      expect({ args, error: error instanceof CliError && error.exitCode }).toEqual({ args, error: 2 });
    }
    // A password typed as an argument is refused without being repeated back.
    const error = await accountAdmin(["add", "dora", "dora-secret-pw"], store, hasher, io([]).io, 8).catch((e) => e);
    expect(error.message).toBe("too many arguments (a password is never taken as an argument)");
  });
});
