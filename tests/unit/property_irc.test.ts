/**
 * Property tests for the IRC dialect: what the server encodes parses back
 * to the same message, and any line a client sends (tags, CTCP, control
 * characters, lone surrogates, unknown commands) is answered without
 * throwing, with lines that fit IRC's limits and cannot be split in two.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { encodeIrcMessage, type IrcMessage, MAX_LINE_BYTES, parseIrcLine, utf8Length } from "../../lib/dialect/irc/message.ts";
import { makeIrcHub, registerIrc } from "../support/irc_hub.ts";

const token = fc.stringMatching(/^[^\s:\0\r\n][^\s\0\r\n]{0,15}$/);
const message: fc.Arbitrary<IrcMessage> = fc.record({
  tags: fc.option(
    fc.dictionary(fc.stringMatching(/^\+?[a-z][a-z0-9\-\/.]{0,10}$/), fc.string({ unit: "binary", maxLength: 20 }).map((v) => v.replace(/\0/g, "")), {
      minKeys: 1,
      maxKeys: 3,
    }),
    { nil: undefined },
  ),
  source: fc.option(token, { nil: undefined }),
  command: fc.stringMatching(/^[A-Z]{1,8}$/),
  params: fc.tuple(fc.array(token, { maxLength: 4 }), fc.option(fc.string({ unit: "binary", maxLength: 40 }).map((t) => t.replace(/[\0\r\n]/g, "")), { nil: undefined }))
    .map(([middle, last]) => (last === undefined ? middle : [...middle, last])),
});

const COMMANDS = ["PRIVMSG", "NOTICE", "JOIN", "PART", "NICK", "MODE", "WHO", "WHOIS", "NAMES", "LIST", "AWAY", "TOPIC", "KICK", "CAP", "PING", "ISON", "USERHOST", "TAGMSG", "QUIT", "FROB"];
const targets = fc.constantFrom("#lobby", "#Lobby", "#dev", "lobby", "##x", "#b@d", "bob", "nobody", "*", "", "0", "#lobby,#dev,bob");
const clientLine = fc.tuple(
  fc.option(fc.constantFrom("@label=x ", "@+typing=active ", "@a=b\\s;c "), { nil: "" }),
  fc.constantFrom(...COMMANDS),
  targets,
  fc.string({ unit: "binary", maxLength: 60 }),
).map(([tags, command, target, rest]) => `${tags}${command} ${target} :${rest.replace(/[\r\n]/g, "")}`);

describe("IRC dialect properties", () => {
  test("a message the server encodes parses back to the same message", () => {
    fc.assert(
      fc.property(message, (m) => {
        const parsed = parseIrcLine(encodeIrcMessage(m));
        const expected: IrcMessage = { command: m.command, params: m.params };
        if (m.tags) expected.tags = m.tags;
        if (m.source !== undefined) expected.source = m.source;
        expect(parsed).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  test("any client line is answered without throwing, in single lines that fit 512 bytes", () => {
    fc.assert(
      fc.property(fc.array(clientLine, { minLength: 1, maxLength: 8 }), (lines) => {
        const { connect } = makeIrcHub();
        const bob = connect("server-time message-tags echo-message labeled-response batch");
        registerIrc(bob, "bob");
        const watcher = connect("away-notify extended-join");
        registerIrc(watcher, "watcher");
        for (const line of lines) bob.line(line);
        for (const peer of [bob, watcher]) {
          for (const bytes of peer.writes) {
            const text = new TextDecoder().decode(bytes);
            expect(text.endsWith("\r\n")).toBe(true);
            for (const out of text.slice(0, -2).split("\r\n")) {
              expect(out).not.toMatch(/[\0\r\n]/);
              const body = out.startsWith("@") ? out.slice(out.indexOf(" ") + 1) : out;
              expect(utf8Length(body) + 2).toBeLessThanOrEqual(MAX_LINE_BYTES + 2);
              expect(parseIrcLine(out)).not.toBeNull();
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
