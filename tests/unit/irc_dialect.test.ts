/**
 * The IRC dialect's pure parts: line syntax, channel names, detection, CTCP,
 * and sessions driven through a real hub with a fake sink (no sockets).
 */
import { describe, expect, test } from "bun:test";
import { channelToRoom } from "../../lib/dialect/irc/channels.ts";
import { isIrcRegistrationLine } from "../../lib/dialect/irc/detect.ts";
import { textFromIrc } from "../../lib/dialect/irc/handlers/messages.ts";
import { ircServerName, isupportTokens } from "../../lib/dialect/irc/isupport.ts";
import { encodeIrcMessage, parseIrcLine, splitUtf8, utf8Length } from "../../lib/dialect/irc/message.ts";
import { makeIrcHub as makeHub, type Peer, registerIrc as register } from "../support/irc_hub.ts";

describe("IRC line syntax", () => {
  test("tags, source, command and trailing are parsed; escaped tag values are unescaped", () => {
    expect(parseIrcLine("@label=a\\sb\\:c;+flag :nick!u@h privmsg #lobby :hi  there")).toEqual({
      tags: { label: "a b;c", "+flag": "" },
      source: "nick!u@h",
      command: "PRIVMSG",
      params: ["#lobby", "hi  there"],
    });
    expect(parseIrcLine("JOIN   #a,#b   key")).toEqual({ command: "JOIN", params: ["#a,#b", "key"] });
    expect(parseIrcLine("PRIVMSG #x :")).toEqual({ command: "PRIVMSG", params: ["#x", ""] });
    expect(parseIrcLine("@only-tags")).toBeNull();
    expect(parseIrcLine("   ")).toBeNull();
  });

  test("encoding escapes tag values and writes text as trailing, names without a colon", () => {
    expect(encodeIrcMessage({ tags: { label: "a b;c\\" }, source: "s", command: "PRIVMSG", params: ["#x", "hi"] }))
      .toBe("@label=a\\sb\\:c\\\\ :s PRIVMSG #x :hi");
    expect(encodeIrcMessage({ source: "n!n@h", command: "JOIN", params: ["#lobby"] })).toBe(":n!n@h JOIN #lobby");
    expect(encodeIrcMessage({ command: "MODE", params: ["n", "+i"] })).toBe("MODE n +i");
    expect(encodeIrcMessage({ command: "JOIN", params: ["#l", "*", "Real Name"] })).toBe("JOIN #l * :Real Name");
  });

  test("long text splits on code points within the byte budget, preferring spaces", () => {
    const text = "héllo wörld ".repeat(100) + "🙂".repeat(50);
    const pieces = splitUtf8(text, 100);
    for (const piece of pieces) expect(utf8Length(piece)).toBeLessThanOrEqual(100);
    expect(pieces.join("").replaceAll(" ", "")).toBe(text.replaceAll(" ", ""));
    expect(pieces.some((p) => p.includes("\ufffd"))).toBe(false);
  });
});

describe("IRC names and detection", () => {
  test("channels map to rooms case-insensitively; other names are no channel or a bad mask", () => {
    expect(channelToRoom("#Lobby")).toEqual({ room: "lobby" });
    expect(channelToRoom("#a.b-c_d")).toEqual({ room: "a.b-c_d" });
    expect(channelToRoom("lobby")).toEqual({ problem: "no_such" });
    expect(channelToRoom("&local")).toEqual({ problem: "no_such" });
    expect(channelToRoom("##lobby")).toEqual({ problem: "bad_mask" });
    expect(channelToRoom("#caf\u00e9")).toEqual({ problem: "bad_mask" });
    expect(channelToRoom("#" + "x".repeat(65))).toEqual({ problem: "bad_mask" });
  });

  test("a first line of CAP, NICK, USER or PASS (any case, then space or end) is IRC; anything else is not", () => {
    for (const line of ["CAP LS 302", "NICK bob", "nick bob", "USER a 0 * :b", "PASS x", "NICK", "  NICK bob"]) {
      expect(isIrcRegistrationLine(line)).toBe(true);
    }
    for (const line of ["bob", "nickname", "/nick bob", "Nicky", "capital", "passport", "JOIN #x", "{\"type\":1}"]) {
      expect(isIrcRegistrationLine(line)).toBe(false);
    }
  });

  test("CTCP ACTION becomes /me text; other CTCP and empty actions are not delivered", () => {
    expect(textFromIrc("\x01ACTION waves\x01")).toBe("/me waves");
    expect(textFromIrc("\x01action waves")).toBe("/me waves");
    expect(textFromIrc("\x01ACTION\x01")).toBeNull();
    expect(textFromIrc("\x01VERSION\x01")).toBeNull();
    expect(textFromIrc("\x01")).toBeNull();
    expect(textFromIrc("plain \x01 text")).toBe("plain \x01 text");
  });

  test("ISUPPORT follows the settings", () => {
    expect(isupportTokens({ server_name: "my net" })).toContain("NETWORK=my_net");
    expect(ircServerName("chat: main")).toBe("chat__main");
  });
});

describe("IRC sessions on a hub", () => {
  test("a broadcast is rendered once per variant: members with the same capabilities get the same bytes", () => {
    const { connect } = makeHub();
    const [a, b, c, d] = [connect(), connect(), connect("server-time"), connect()];
    register(a, "a");
    register(b, "b");
    register(c, "c");
    register(d, "d");
    for (const p of [a, b, c, d]) p.writes.length = 0;
    d.irc.onLine("PRIVMSG #lobby :hello all", 24);
    expect(a.writes).toHaveLength(1);
    expect(a.writes[0]).toBe(b.writes[0]); // The very same bytes.
    expect(c.writes[0]).not.toBe(a.writes[0]);
    expect(a.lines()).toEqual([":d!d@tcpchat PRIVMSG #lobby :hello all"]);
    expect(c.lines()[0]).toMatch(/^@time=2023-11-14T22:13:2\d\.\d{3}Z :d!d@tcpchat PRIVMSG #lobby :hello all$/);
    expect(d.writes).toHaveLength(0); // No echo-message.
  });

  test("a long message from another dialect becomes several PRIVMSG lines of at most 512 bytes", () => {
    const { hub, connect } = makeHub();
    const irc = connect();
    register(irc, "reader");
    const writer = hub.attach({} as Peer, 0);
    hub.handle(writer, { type: "hello", nick: "writer" }, 1);
    irc.writes.length = 0;
    hub.handle(writer, { type: "msg", room: "lobby", text: "word ".repeat(700) + "\nsecond line\n/me is not an action here" }, 2);
    const lines = irc.lines();
    expect(lines.length).toBeGreaterThan(7);
    for (const line of lines) expect(utf8Length(line) + 2).toBeLessThanOrEqual(512);
    expect(lines.at(-2)).toBe(":writer!writer@tcpchat PRIVMSG #lobby :second line");
    expect(lines.at(-1)).toBe(":writer!writer@tcpchat PRIVMSG #lobby :/me is not an action here");
  });

  test("a line of 512 bytes with CR LF is read; one byte more is 417 and the session goes on", () => {
    const { connect } = makeHub();
    const irc = connect();
    register(irc, "edge");
    const head = "PRIVMSG nobody :";
    const fits = head + "x".repeat(510 - head.length);
    irc.irc.onLine(fits, 510);
    irc.irc.onLine(fits + "é", 512);
    expect(irc.lines()).toEqual([
      ":tcpchat 401 edge nobody :No such nick/channel",
      ":tcpchat 417 edge :Input line was too long",
    ]);
  });
});
