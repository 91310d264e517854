/**
 * RPL_ISUPPORT (005) tokens, built from the running settings and the hub's
 * real rules so that they tell the truth (like ergo's `isupport.go`).
 *
 * @module
 */
import type { Settings } from "../../config/settings.ts";
import { MAX_TOPIC } from "../../protocol/moderation_frames.ts";
import { MAX_NICK_CODE_POINTS } from "../../protocol/names.ts";
import { CHANMODES } from "./channel_modes.ts";
import { MAX_CHANNEL_LENGTH } from "./channels.ts";
import { CHATHISTORY_MAX } from "./chathistory.ts";
import { MAX_LINE_BYTES } from "./message.ts";

/** Longest away note, as the hub's `status` frame allows. */
export const AWAY_LENGTH = 200;
/** Targets one PRIVMSG or NOTICE may name (comma-separated). */
export const MAX_MESSAGE_TARGETS = 4;

/**
 * The server name as IRC shows it (the source of server lines, NETWORK): one
 * token, so spaces and the characters that delimit a source become `_`.
 */
export function ircServerName(serverName: string): string {
  return serverName.replace(/[\s:!@=,]/g, "_") || "tcpchat";
}

/** The ISUPPORT tokens, in the order they are sent. */
export function isupportTokens(settings: Pick<Settings, "server_name">): string[] {
  return [
    `AWAYLEN=${AWAY_LENGTH}`,
    // Nicks are unique by NFKC case fold: the closest published mapping is PRECIS (RFC 8265).
    "CASEMAPPING=rfc8265",
    // Bans, the key, and the flags i n t (+n always holds: only members send). See channel_modes.ts.
    `CHANMODES=${CHANMODES}`,
    `CHANNELLEN=${MAX_CHANNEL_LENGTH}`,
    "CHANTYPES=#",
    // draft/chathistory: the most messages one CHATHISTORY returns (a `history` frame's limit).
    `CHATHISTORY=${CHATHISTORY_MAX}`,
    // Account bans as $a:NAME (charybdis/solanum syntax).
    "EXTBAN=$,a",
    `LINELEN=${MAX_LINE_BYTES + 2}`,
    // msgid first: it names a message exactly (msgref.ts); a timestamp is resolved to the nearest message.
    "MSGREFTYPES=msgid,timestamp",
    // Mode changes one MODE line may carry with parameters (more are taken too).
    "MODES=4",
    `NETWORK=${ircServerName(settings.server_name)}`,
    `NICKLEN=${MAX_NICK_CODE_POINTS}`,
    // Room operators; there is no voice.
    "PREFIX=(o)@",
    `TARGMAX=JOIN:,PART:,PRIVMSG:${MAX_MESSAGE_TARGETS},NOTICE:${MAX_MESSAGE_TARGETS},NAMES:1,WHOIS:1,LIST:`,
    `TOPICLEN=${MAX_TOPIC}`,
    "UTF8ONLY",
  ];
}

/** The tokens in 005 lines of at most 13 tokens each (the usual limit). */
export function isupportLines(settings: Pick<Settings, "server_name">): string[][] {
  const tokens = isupportTokens(settings);
  const lines: string[][] = [];
  for (let i = 0; i < tokens.length; i += 13) lines.push(tokens.slice(i, i + 13));
  return lines;
}
