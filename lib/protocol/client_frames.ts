/**
 * Client-to-server frames of the JSON dialect: one valibot schema per `type`,
 * and {@linkcode decodeJsonFrame} that turns a line into a typed frame or an
 * error naming the offending field. The text dialect produces the same typed
 * frames, so the hub sees one command language.
 *
 * @module
 */
import * as v from "valibot";
import { ACCOUNT_FRAME_SCHEMAS, MAX_KEY, MAX_PASSWORD, MODERATION_FRAME_SCHEMAS } from "./moderation_frames.ts";
import { fastMsg } from "./msg_fast_path.ts";
import { ROOM_RULE, roomName } from "./names.ts";
import { wellFormed } from "./well_formed.ts";

// Every string a client sends is checked for lone surrogates (see well_formed.ts).
const id = v.optional(v.pipe(v.string(), v.maxLength(64, "id has at most 64 characters"), wellFormed("id")));
const room = v.pipe(
  v.string("room must be a string"),
  v.check((raw) => roomName(raw) !== undefined, ROOM_RULE),
  v.transform((raw) => roomName(raw)!),
);
const text = v.pipe(v.string("text must be a string"), v.minLength(1, "text must not be empty"), wellFormed("text"));
const nick = v.pipe(v.string("nick must be a string"), wellFormed("nick"));
const shortText = (name: string, max: number) =>
  v.optional(
    v.pipe(v.string(`${name} must be a string`), v.maxLength(max, `${name} has at most ${max} characters`), wellFormed(name)),
  );
/** An optional seq number (a whole number, 0 or more). */
const seqField = (name: string) =>
  v.optional(
    v.pipe(v.number(`${name} must be a number`), v.integer(`${name} must be a whole number`), v.minValue(0, `${name} must be 0 or more`)),
  );
const pingToken = v.optional(
  v.union([v.number(), v.pipe(v.string(), wellFormed("t"))], "t must be a number or a string without lone surrogates"),
);

/** One schema per frame type; unknown fields are dropped. */
export const CLIENT_FRAME_SCHEMAS = {
  hello: v.object({
    type: v.literal("hello"),
    id,
    nick,
    password: shortText("password", MAX_PASSWORD),
    client: shortText("client", 256),
  }),
  nick: v.object({ type: v.literal("nick"), id, nick, password: shortText("password", MAX_PASSWORD) }),
  join: v.object({
    type: v.literal("join"),
    id,
    room,
    since: v.optional(
      v.pipe(v.number("since must be a number"), v.integer("since must be a whole number"), v.minValue(0)),
    ),
    key: shortText("key", MAX_KEY),
  }),
  leave: v.object({ type: v.literal("leave"), id, room }),
  history: v.object({
    type: v.literal("history"),
    id,
    room,
    before: seqField("before"),
    after: seqField("after"),
    limit: v.optional(
      v.pipe(
        v.number("limit must be a number"),
        v.integer("limit must be a whole number"),
        v.minValue(1, "limit must be 1-100"),
        v.maxValue(100, "limit must be 1-100"),
      ),
    ),
  }),
  msg: v.object({ type: v.literal("msg"), id, room, text }),
  dm: v.object({ type: v.literal("dm"), id, to: v.pipe(v.string("to must be a string"), wellFormed("to")), text }),
  who: v.object({
    type: v.literal("who"),
    id,
    room,
    // A page starts after this nick in casefolded order (any string: the nick may have left since).
    after: shortText("after", 256),
    limit: v.optional(
      v.pipe(
        v.number("limit must be a number"),
        v.integer("limit must be a whole number"),
        v.minValue(1, "limit must be 1 to 1000"),
        v.maxValue(1000, "limit must be 1 to 1000"),
      ),
    ),
  }),
  rooms: v.object({ type: v.literal("rooms"), id }),
  status: v.object({
    type: v.literal("status"),
    id,
    status: v.picklist(["online", "away"], "status must be online or away"),
    note: shortText("note", 200),
  }),
  ping: v.object({ type: v.literal("ping"), id, t: pingToken }),
  pong: v.object({ type: v.literal("pong"), id, t: pingToken }),
  quit: v.object({ type: v.literal("quit"), id, reason: shortText("reason", 200) }),
  ...ACCOUNT_FRAME_SCHEMAS,
  ...MODERATION_FRAME_SCHEMAS,
} as const;

type Schemas = typeof CLIENT_FRAME_SCHEMAS;
/** The frame types a client may send. */
export type ClientFrameType = keyof Schemas;
/** A validated client frame of the given type. */
export type ClientFrameOf<T extends ClientFrameType> = v.InferOutput<Schemas[T]>;
/** Any validated client frame. */
export type ClientFrame = { [T in ClientFrameType]: ClientFrameOf<T> }[ClientFrameType];

/** Why a line is not a frame: `bad_frame` (not JSON / not UTF-8) or `invalid` (breaks a schema). */
export interface FrameProblem {
  code: "bad_frame" | "invalid";
  message: string;
  /** The offending field, for `invalid`. */
  field?: string;
  /** The frame's `id`, when it had a usable one, so the error can answer it. */
  id?: string;
}

/** Result of decoding one line. */
export type DecodeResult = { ok: true; frame: ClientFrame } | { ok: false; problem: FrameProblem };

/** Validates an already-parsed JSON value as a client frame. */
export function validateClientFrame(value: unknown): DecodeResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return problem("invalid", "a frame must be a JSON object", "type");
  }
  const record = value as Record<string, unknown>;
  const frameId = typeof record.id === "string" && record.id.length <= 64 && record.id.isWellFormed() ? record.id : undefined;
  const type = record.type;
  if (typeof type !== "string") return problem("invalid", "type must be a string", "type", frameId);
  if (!Object.hasOwn(CLIENT_FRAME_SCHEMAS, type)) {
    return problem("invalid", `unknown frame type ${JSON.stringify(type.slice(0, 40))}`, "type", frameId);
  }
  if (type === "msg") {
    const frame = fastMsg(record);
    if (frame !== undefined) return { ok: true, frame };
  }
  const result = v.safeParse(CLIENT_FRAME_SCHEMAS[type as ClientFrameType], value);
  if (result.success) return { ok: true, frame: result.output as ClientFrame };
  const issue = result.issues[0];
  const field = issue.path?.map((item) => String(item.key)).join(".") || "type";
  const message = issue.kind === "schema" && issue.received === "undefined" ? `${field} is required` : issue.message;
  return problem("invalid", message, field, frameId);
}

/** Parses one line of the JSON dialect. */
export function decodeJsonFrame(line: string): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // Also catches stack exhaustion on absurdly deep nesting.
    return problem("bad_frame", "line is not valid JSON");
  }
  return validateClientFrame(value);
}

function problem(code: FrameProblem["code"], message: string, field?: string, id?: string): DecodeResult {
  return { ok: false, problem: { code, message, field, id } };
}
