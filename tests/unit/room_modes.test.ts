import { describe, expect, test } from "bun:test";
import { maskKey, normalizeMask, RoomModeration } from "../../lib/hub/room_modes.ts";
import { Session } from "../../lib/hub/session.ts";
import { nickKey } from "../../lib/protocol/names.ts";

function session(nick: string, account?: string): Session {
  const s = new Session("id", 1, null, 10, 0);
  s.nick = nick;
  s.nickKey = nickKey(nick);
  if (account) s.account = { key: nickKey(account), name: account };
  return s;
}

describe("room bans", () => {
  test("masks are shown casefolded and match look-alike names, as nicks do", () => {
    expect(normalizeMask("nick:PAT")).toBe("nick:pat");
    expect(normalizeMask("account:Ｋim")).toBe("account:kim");
    expect(maskKey("nick:pat")).toBe(maskKey("nick:\u0440\u0430t")); // Cyrillic р and а
    const mod = new RoomModeration();
    mod.addBan({ mask: "nick:pat", by: "op", ts: 0, reason: "" });
    expect(mod.banOf(session("\u0440\u0430t"))?.mask).toBe("nick:pat");
    expect(mod.banOf(session("pat2"))).toBeUndefined();
  });

  test("an account ban holds whatever nick its owner takes; a nick ban only that nick", () => {
    const mod = new RoomModeration();
    mod.addBan({ mask: "account:kim", by: "op", ts: 0, reason: "" });
    expect(mod.banOf(session("someone-else", "Kim"))?.mask).toBe("account:kim");
    expect(mod.banOf(session("kim"))).toBeUndefined();
    expect(mod.removeBan("account:KIM")?.mask).toBe("account:kim");
    expect(mod.banOf(session("x", "kim"))).toBeUndefined();
  });

  test("a look-alike ban replaces the old one and says which it replaced", () => {
    const mod = new RoomModeration();
    mod.addBan({ mask: "nick:pat", by: "op", ts: 0, reason: "" });
    expect(mod.addBan({ mask: "nick:\u0440at", by: "op", ts: 1, reason: "" })?.mask).toBe("nick:pat");
    expect(mod.bans.size).toBe(1);
  });
});
