/**
 * The permission matrix of protocol section 9: every moderation frame tried
 * by an outsider (connected, not in the room), a member, the room's operator
 * and a server operator, on a room with an operator and on a room without
 * one; each answer as the contract (and docs/protocol.md) says.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

type Actor = "outsider" | "member" | "room_op" | "server_op";
type RoomKind = "with_ops" | "without_ops";
/** `ok` or the error code expected. */
type Outcome = "ok" | "not_op" | "not_in_room";

/** What a case can use: the room, a fresh victim in it, and an operator who can set things up. */
interface CaseContext {
  room: string;
  victim: string;
  /** A connected nick that is no member of the room. */
  stranger: string;
  /** Someone who operates the room (for preparation). */
  setup: TestClient;
}

interface FrameCase {
  type: string;
  frame(ctx: CaseContext): Frame;
  /** The type of the successful answer. */
  answer: string;
  prepare?(ctx: CaseContext): Promise<void>;
  outcomes: Record<RoomKind, Partial<Record<Actor, Outcome>>>;
}

const OPS_ONLY = {
  with_ops: { outsider: "not_in_room", member: "not_op", room_op: "ok", server_op: "ok" },
  without_ops: { outsider: "not_in_room", member: "not_op", server_op: "ok" },
} as const;

const CASES: FrameCase[] = [
  {
    type: "topic",
    frame: ({ room }) => ({ type: "topic", room, topic: "matrix" }),
    answer: "topic",
    // topic_lock holds only while an operator is present: in a room without one, anyone may.
    outcomes: {
      with_ops: { outsider: "not_in_room", member: "not_op", room_op: "ok", server_op: "ok" },
      without_ops: { outsider: "not_in_room", member: "ok", server_op: "ok" },
    },
  },
  { type: "mode", frame: ({ room }) => ({ type: "mode", room, invite_only: false }), answer: "mode", outcomes: OPS_ONLY },
  { type: "op", frame: ({ room, victim }) => ({ type: "op", room, nick: victim }), answer: "role", outcomes: OPS_ONLY },
  {
    type: "deop",
    frame: ({ room, victim }) => ({ type: "deop", room, nick: victim }),
    answer: "role",
    prepare: async ({ room, victim, setup }) => {
      expect(await setup.request({ type: "op", room, nick: victim })).toMatchObject({ type: "role", op: true });
    },
    outcomes: OPS_ONLY,
  },
  { type: "kick", frame: ({ room, victim }) => ({ type: "kick", room, nick: victim }), answer: "leave", outcomes: OPS_ONLY },
  { type: "ban", frame: ({ room, victim }) => ({ type: "ban", room, nick: victim }), answer: "ban", outcomes: OPS_ONLY },
  {
    type: "unban",
    frame: ({ room, stranger }) => ({ type: "unban", room, mask: `nick:${stranger}` }),
    answer: "ban",
    prepare: async ({ room, stranger, setup }) => {
      expect(await setup.request({ type: "ban", room, nick: stranger })).toMatchObject({ type: "ban" });
    },
    outcomes: OPS_ONLY,
  },
  { type: "bans", frame: ({ room }) => ({ type: "bans", room }), answer: "bans", outcomes: OPS_ONLY },
  {
    type: "invite",
    frame: ({ room, stranger }) => ({ type: "invite", room, nick: stranger }),
    answer: "invite",
    // Any member may invite to a room that is not invite-only.
    outcomes: {
      with_ops: { outsider: "not_in_room", member: "ok", room_op: "ok", server_op: "ok" },
      without_ops: { outsider: "not_in_room", member: "ok", server_op: "ok" },
    },
  },
  {
    type: "kill",
    frame: ({ victim }) => ({ type: "kill", nick: victim }),
    answer: "presence",
    outcomes: {
      with_ops: { outsider: "not_op", member: "not_op", room_op: "not_op", server_op: "ok" },
      without_ops: { outsider: "not_op", member: "not_op", server_op: "ok" },
    },
  },
];

const ROWS = CASES.flatMap((c) =>
  (["with_ops", "without_ops"] as const).flatMap((kind) =>
    (Object.entries(c.outcomes[kind]) as [Actor, Outcome][]).map(([actor, outcome]) => ({ c, kind, actor, outcome }))
  )
);

describe.each(SERVER_RUNTIMES)("moderation permission matrix (%s)", (runtime) => {
  let server: ChatServerProcess;
  let root: TestClient;
  let creator: TestClient;
  let member: TestClient;
  let outsider: TestClient;
  let n = 0;

  beforeAll(async () => {
    server = await startChatServer(runtime, ["--operators", "root", "--rate-per-s", "1000", "--burst", "1000"]);
    root = await TestClient.register(server.port, "root");
    expect(await root.request({ type: "register", password: "root-password-1" })).toMatchObject({ type: "account", account: "root" });
    creator = await TestClient.register(server.port, "creator");
    member = await TestClient.register(server.port, "member");
    outsider = await TestClient.register(server.port, "outsider");
  });
  afterAll(() => server.stop());

  test.each(ROWS.map((r) => [r.c.type, r.kind, r.actor, r.outcome, r] as const))(
    "%s in a room %s by the %s: %s",
    async (_type, kind, actor, outcome, { c }) => {
      const room = `m${++n}`;
      const victim = await TestClient.register(server.port, `v${n}`);
      const strangerNick = `s${n}`;
      const stranger = await TestClient.register(server.port, strangerNick);
      // The room's creator is its operator; for a room without one, it leaves again.
      expect(await creator.request({ type: "join", room })).toMatchObject({ type: "room", room });
      await member.request({ type: "join", room });
      await victim.request({ type: "join", room });
      if (kind === "without_ops") await creator.request({ type: "leave", room });
      const ctx: CaseContext = { room, victim: `v${n}`, stranger: strangerNick, setup: kind === "with_ops" ? creator : root };
      await c.prepare?.(ctx);
      const client = { outsider, member, room_op: creator, server_op: root }[actor];
      const answer = await client.request(c.frame(ctx));
      if (outcome === "ok") expect(answer.type).toBe(c.answer);
      else expect(answer).toMatchObject({ type: "error", code: outcome });
      for (const c of [creator, member]) c.send({ type: "leave", room });
      victim.destroy();
      stranger.destroy();
    },
  );
});
