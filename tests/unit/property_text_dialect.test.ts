/**
 * Property tests for the text dialect: the command parser and the telnet
 * filter take anything a person (or a program posing as one) types without
 * throwing, and what other users wrote is always shown as one line with no
 * control characters.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { validateClientFrame } from "../../lib/protocol/client_frames.ts";
import type { MsgFrame, ServerFrame } from "../../lib/protocol/server_frames.ts";
import { TelnetFilter } from "../../lib/protocol/telnet.ts";
import { parseTextLine, type TextState } from "../../lib/protocol/text_commands.ts";
import { renderTextFrame } from "../../lib/protocol/text_render.ts";
import { chunkAt } from "../../scripts/fuzz.ts";

const COMMANDS = ["/nick", "/join", "/leave", "/part", "/msg", "/who", "/rooms", "/list", "/away", "/back", "/me", "/quit", "/help", "/", "//", "/JOIN"];
/** Lines a person might type: free text, or a command with arbitrary arguments. */
const typedLine = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.tuple(fc.constantFrom(...COMMANDS), fc.constantFrom("", " ", "  ", "\t"), fc.string({ unit: "binary", maxLength: 60 }))
    .map(([c, sep, rest]) => c + sep + rest),
);
const textState: fc.Arbitrary<TextState> = fc.record({
  registered: fc.boolean(),
  currentRoom: fc.option(fc.stringMatching(/^[a-z0-9_.\-]{1,64}$/), { nil: null }),
});
/** Anything a user can write, control characters and lone surrogates included. */
const userText = fc.string({ unit: "binary", minLength: 1, maxLength: 60 });
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

describe("text dialect properties", () => {
  test("any typed line in any state parses to a valid frame, help, or an error, without throwing", () => {
    fc.assert(
      fc.property(typedLine, textState, (line, state) => {
        const input = parseTextLine(line, state);
        switch (input.kind) {
          case "frame": {
            // The frame obeys the same schema as a JSON client's.
            const again = validateClientFrame(input.frame);
            expect(again).toEqual({ ok: true, frame: input.frame });
            if (!state.registered) expect(["hello", "quit"]).toContain(input.frame.type);
            break;
          }
          case "error":
            expect(typeof input.code).toBe("string");
            expect(input.message.length).toBeGreaterThan(0);
            break;
          default:
            expect(input).toEqual({ kind: "help" });
        }
      }),
      { numRuns: 3000 },
    );
  });

  test("for a registered user with a current room, a line not starting with / is a message of exactly that line", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), fc.stringMatching(/^[a-z0-9]{1,10}$/), (line, room) => {
        fc.pre(line.trim() !== "" && !line.trim().startsWith("/"));
        expect(parseTextLine(line, { registered: true, currentRoom: room })).toEqual({
          kind: "frame",
          frame: { type: "msg", room, text: line },
        });
      }),
      { numRuns: 1000 },
    );
  });

  test("what others wrote (messages, direct messages, notes) is shown on one line without control characters", () => {
    const msg = (text: string): MsgFrame => ({ type: "msg", room: "lobby", from: "mallory", text, seq: 1, ts: 0 });
    const frames = fc.oneof(
      userText.map((text): ServerFrame => msg(text)),
      userText.map((text): ServerFrame => ({ type: "dm", from: "mallory", to: "tex", text, ts: 0 })),
      userText.map((note): ServerFrame => ({ type: "presence", nick: "mallory", status: "away", note })),
      userText.map((note): ServerFrame => ({ type: "who", room: "lobby", users: [{ nick: "mallory", status: "away", since: 0, note }], member_count: 1 })),
      fc.array(userText, { maxLength: 4 }).map((texts): ServerFrame => ({
        type: "room",
        room: "lobby",
        epoch: "e1",
        seq: texts.length,
        members: ["tex"],
        member_count: 1,
        history: texts.map(msg),
      })),
    );
    fc.assert(
      fc.property(frames, fc.constantFrom("tex", "mallory", null), (frame, self) => {
        const shown = renderTextFrame(frame, self)!;
        const lines = shown.split("\n");
        // A snapshot is one line plus one per history message; everything else is one line.
        expect(lines.length).toBe(frame.type === "room" ? 1 + frame.history.length : 1);
        for (const line of lines) expect(CONTROL.test(line)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  test("the telnet filter never throws and gives the same data and answers however the bytes are chunked", () => {
    const bytes = fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(255, 254, 253, 252, 251, 250, 240, 244, 6, 0x0a) },
        { weight: 5, arbitrary: fc.integer({ min: 0, max: 255 }) },
      ),
      { maxLength: 200 },
    ).map((a) => Uint8Array.from(a));
    const run = (chunks: Uint8Array[]) => {
      const filter = new TelnetFilter();
      const data: number[] = [];
      const reply: number[] = [];
      for (const chunk of chunks) {
        const out = filter.push(chunk);
        data.push(...out.data);
        if (out.reply) reply.push(...out.reply);
      }
      return { data, reply };
    };
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 30 }), (input, cuts) => {
        const whole = run([input]);
        expect(run(chunkAt(input, cuts))).toEqual(whole);
        expect(whole.data.length).toBeLessThanOrEqual(input.length);
        // Every answer is a refusal: IAC WONT x or IAC DONT x.
        expect(whole.reply.length % 3).toBe(0);
        for (let i = 0; i < whole.reply.length; i += 3) {
          expect(whole.reply[i]).toBe(255);
          expect([252, 254]).toContain(whole.reply[i + 1]);
        }
        if (!input.includes(255)) expect(whole.data).toEqual(Array.from(input));
      }),
      { numRuns: 2000 },
    );
  });
});
