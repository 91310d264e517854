import { describe, expect, test } from "bun:test";
import { Room } from "../../lib/hub/room.ts";
import { Session } from "../../lib/hub/session.ts";
import { IntrusiveList } from "../../lib/hub/session_list.ts";
import { addStrike } from "../../lib/hub/rate_limiter.ts";

const names = (s: Session<unknown>) => [...s.rooms].map((r) => r.name);

describe("Session", () => {
  test("rooms are listed in join order through one, two and three rooms and back", () => {
    const s = new Session<unknown>("boot-", 7, null, 10, 0);
    const [a, b, c] = ["a", "b", "c"].map((n) => new Room(n, 10, "e"));
    expect(names(s)).toEqual([]);
    s.addRoom(a!);
    s.addRoom(a!); // a repeated join does not list it twice
    expect([names(s), s.roomCount]).toEqual([["a"], 1]);
    s.addRoom(b!);
    s.addRoom(c!);
    expect([names(s), s.roomCount]).toEqual([["a", "b", "c"], 3]);
    s.removeRoom(a!);
    expect(names(s)).toEqual(["b", "c"]);
    s.removeRoom(c!);
    expect([names(s), s.roomCount]).toEqual([["b"], 1]);
    s.addRoom(a!);
    expect(names(s)).toEqual(["b", "a"]);
    s.removeRoom(c!); // not in it: nothing changes
    expect(names(s)).toEqual(["b", "a"]);
    s.clearRooms();
    expect([names(s), s.roomCount]).toEqual([[], 0]);
  });

  test("the id is the hub's boot id and the serial in base 36", () => {
    expect(new Session("k3x9a2", 71, null, 10, 0).id).toBe("k3x9a2-1z");
  });

  test("rarely set fields read as unset until written, then keep what was written", () => {
    const s = new Session("boot-", 1, null, 10, 0);
    expect([s.note, s.waits, s.held, s.invites, s.strikes, s.strikesAt]).toEqual([undefined, 0, null, null, 0, 0]);
    s.note = "lunch";
    s.waits++;
    (s.held ??= []).push({ type: "ping" });
    (s.invites ??= new Set()).add("r");
    expect([s.note, s.waits, s.held, [...s.invites!]]).toEqual(["lunch", 1, [{ type: "ping" }], ["r"]]);
    s.note = undefined;
    s.waits--;
    expect([s.note, s.waits]).toEqual([undefined, 0]);
  });

  test("strikes count as on a fresh record and are forgiven at one per second", () => {
    const s = new Session("boot-", 1, null, 10, 5_000);
    expect(addStrike(s, 2, 10_000)).toBe(false);
    expect(addStrike(s, 2, 10_000)).toBe(false);
    expect(addStrike(s, 2, 10_000)).toBe(true);
    expect(addStrike(s, 2, 12_000)).toBe(false); // 3 - 2 forgiven + 1
  });
});

describe("IntrusiveList", () => {
  interface Item {
    name: string;
    listPrev: Item | null;
    listNext: Item | null;
  }
  const item = (name: string): Item => ({ name, listPrev: null, listNext: null });

  test("lists items oldest first and removes any of them in O(1)", () => {
    const list = new IntrusiveList<Item>();
    const [a, b, c, d] = ["a", "b", "c", "d"].map(item);
    for (const x of [a, b, c, d]) list.add(x!);
    list.delete(c!); // middle
    list.delete(d!); // head (newest)
    list.delete(a!); // tail (oldest)
    list.delete(a!); // twice: no effect
    list.delete(item("stranger")); // never added: no effect
    expect([list.toArray().map((x) => x.name), list.size]).toEqual([["b"], 1]);
    list.add(a!);
    expect(list.toArray().map((x) => x.name)).toEqual(["b", "a"]);
    list.clear();
    expect([list.toArray(), list.size, a!.listNext, b!.listPrev]).toEqual([[], 0, null, null]);
  });
});
