/**
 * Hub.login, the login IRC uses for SASL, NickServ IDENTIFY and OPER: an
 * account apart from the nick, before or after hello, through the same
 * password check and guessing limit as hello.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { defaultSettings } from "../../lib/config/settings.ts";
import { Hub, type HubSink } from "../../lib/hub/hub.ts";
import type { PasswordHasher } from "../../lib/hub/password_hasher.ts";
import type { Session } from "../../lib/hub/session.ts";
import { nickKey } from "../../lib/protocol/names.ts";
import type { ServerFrame } from "../../lib/protocol/server_frames.ts";
import { MemoryAccountStore, type PasswordRecord } from "../../lib/store/account_store.ts";
import { MemoryRoomStateStore } from "../../lib/store/room_state_store.ts";
import { MemoryStore } from "../../lib/store/memory_store.ts";

interface Peer {
  got: ServerFrame[];
}

/** A hasher whose "hash" is the password reversed, answering at once (as a resolved promise). */
const hasher: PasswordHasher = {
  hash: (password: string) => Promise.resolve({ algo: "scrypt", N: 1, r: 1, p: 1, salt: "", hash: [...password].reverse().join("") } as PasswordRecord),
  verify: (password: string, record: PasswordRecord) => Promise.resolve([...password].reverse().join("") === record.hash),
};
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

let hub: Hub<Peer>;
const now = 1_000_000;

beforeEach(() => {
  const accounts = new MemoryAccountStore();
  accounts.create({ key: nickKey("alice"), name: "alice", password: { algo: "scrypt", N: 1, r: 1, p: 1, salt: "", hash: "terces" }, created: 0 });
  const sink: HubSink<Peer> = {
    send: (to, frame) => to.peer.got.push(frame),
    broadcast: (to, frame, except) => {
      for (const s of to) if (s !== except) s.peer.got.push(frame);
    },
    close: () => {},
  };
  hub = new Hub<Peer>({ ...defaultSettings(), default_room: "" }, "test", sink, {
    roomLog: new MemoryStore(),
    accounts,
    roomStates: new MemoryRoomStateStore(),
    hasher,
    now: () => now,
  });
});

const connect = (address = "10.0.0.1"): Session<Peer> => hub.attach({ got: [] }, now, address);

describe("Hub.login", () => {
  test("before hello, a login to another account than the nick is kept: welcome and who carry the account", async () => {
    const s = connect();
    const done: string[] = [];
    hub.login(s, "Alice", "secret", "sasl", now, (account) => done.push(account));
    await settle();
    expect(done).toEqual(["alice"]);
    hub.handle(s, { type: "hello", nick: "phone" }, now);
    expect(s.peer.got.at(-1)).toMatchObject({ type: "welcome", nick: "phone", account: "alice" });
    hub.handle(s, { type: "join", room: "dev" }, now);
    hub.handle(s, { type: "who", room: "dev", id: "w" }, now);
    expect(s.peer.got.at(-1)).toMatchObject({ type: "who", users: [{ nick: "phone", account: "alice", op: true }] });
  });

  test("a wrong password or an unknown account is unauthorized with the caller's id; a second login during a check is rate_limited", async () => {
    const s = connect();
    hub.login(s, "alice", "wrong", "sasl", now, () => expect.unreachable());
    hub.login(s, "alice", "secret", "again", now, () => expect.unreachable());
    await settle();
    hub.login(s, "nobody", "secret", "sasl", now, () => expect.unreachable());
    await settle();
    const errors = s.peer.got.map((f) => f.type === "error" && [f.code, f.id]);
    expect(errors).toEqual([["rate_limited", "again"], ["unauthorized", "sasl"], ["unauthorized", "sasl"]]);
    expect(s.account).toBeNull();
  });

  test("guesses count with hello's: after 5 wrong ones from an address, the right password is refused unchecked", async () => {
    for (let i = 0; i < 5; i++) {
      const s = connect("10.9.9.9");
      hub.handle(s, { type: "hello", nick: "alice", password: `guess-${i}` }, now);
      await settle();
    }
    const s = connect("10.9.9.9");
    hub.login(s, "alice", "secret", "sasl", now, () => expect.unreachable());
    expect(s.peer.got[0]).toMatchObject({ type: "error", code: "rate_limited", id: "sasl" });
  });
});
