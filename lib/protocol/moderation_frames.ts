/**
 * Client frames for accounts (register, passwd, drop) and room moderation
 * (topic, mode, op, deop, kick, ban, unban, bans, invite, kill): their
 * valibot schemas, merged into the client frame table in `client_frames.ts`.
 *
 * Passwords are validated for length only: a message never quotes them.
 *
 * @module
 */
import * as v from "valibot";
import { ROOM_RULE, roomName } from "./names.ts";
import { wellFormed } from "./well_formed.ts";

/** Longest password, in UTF-16 units (scrypt takes any length; this bounds the work a frame can ask for). */
export const MAX_PASSWORD = 256;
/** Longest room key. */
export const MAX_KEY = 64;
/** Longest topic, in characters (code points). */
export const MAX_TOPIC = 300;
/** Longest kick, ban or kill reason. */
export const MAX_REASON = 200;

const id = v.optional(v.pipe(v.string(), v.maxLength(64, "id has at most 64 characters"), wellFormed("id")));
const room = v.pipe(
  v.string("room must be a string"),
  v.check((raw) => roomName(raw) !== undefined, ROOM_RULE),
  v.transform((raw) => roomName(raw)!),
);
const nick = v.pipe(v.string("nick must be a string"), wellFormed("nick"));
const password = (name: string) =>
  v.pipe(
    v.string(`${name} must be a string`),
    v.maxLength(MAX_PASSWORD, `${name} has at most ${MAX_PASSWORD} characters`),
    wellFormed(name),
  );
const reason = v.optional(
  v.pipe(v.string("reason must be a string"), v.maxLength(MAX_REASON, `reason has at most ${MAX_REASON} characters`), wellFormed("reason")),
);
/** Counts code points, not UTF-16 units: "300 characters" as a person counts them. */
const topicText = v.pipe(
  v.string("topic must be a string"),
  v.check((text) => text.length <= MAX_TOPIC || [...text].length <= MAX_TOPIC, `topic has at most ${MAX_TOPIC} characters`),
  wellFormed("topic"),
);
/** `account:NAME` or `nick:NAME`. */
const mask = v.pipe(
  v.string("mask must be a string"),
  v.regex(/^(account|nick):[^\s:]{1,64}$/u, "mask is account:NAME or nick:NAME"),
  wellFormed("mask"),
);

/** Account frames. */
export const ACCOUNT_FRAME_SCHEMAS = {
  register: v.object({
    type: v.literal("register"),
    id,
    password: password("password"),
    email: v.optional(
      v.pipe(v.string("email must be a string"), v.maxLength(254, "email has at most 254 characters"), wellFormed("email")),
    ),
  }),
  passwd: v.object({ type: v.literal("passwd"), id, password: password("password"), new_password: password("new_password") }),
  drop: v.object({ type: v.literal("drop"), id, password: password("password") }),
} as const;

/** Moderation frames. */
export const MODERATION_FRAME_SCHEMAS = {
  topic: v.object({ type: v.literal("topic"), id, room, topic: topicText }),
  mode: v.pipe(
    v.object({
      type: v.literal("mode"),
      id,
      room,
      invite_only: v.optional(v.boolean("invite_only must be true or false")),
      key: v.optional(
        v.pipe(v.string("key must be a string"), v.maxLength(MAX_KEY, `key has at most ${MAX_KEY} characters`), wellFormed("key")),
      ),
      topic_lock: v.optional(v.boolean("topic_lock must be true or false")),
    }),
    v.check(
      (f) => f.invite_only !== undefined || f.key !== undefined || f.topic_lock !== undefined,
      "mode needs invite_only, key or topic_lock",
    ),
  ),
  op: v.object({ type: v.literal("op"), id, room, nick }),
  deop: v.object({ type: v.literal("deop"), id, room, nick }),
  kick: v.object({ type: v.literal("kick"), id, room, nick, reason }),
  ban: v.object({ type: v.literal("ban"), id, room, nick, reason }),
  unban: v.object({ type: v.literal("unban"), id, room, mask }),
  bans: v.object({ type: v.literal("bans"), id, room }),
  invite: v.object({ type: v.literal("invite"), id, room, nick }),
  kill: v.object({ type: v.literal("kill"), id, nick, reason }),
} as const;
