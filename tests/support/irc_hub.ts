/**
 * IRC sessions on a real hub with no sockets, for unit and property tests:
 * each peer collects the bytes written to it. Peers without an IRC session
 * stand for users of other dialects.
 */
import { defaultSettings, type Settings } from "../../lib/config/settings.ts";
import { Hub, type HubSink } from "../../lib/hub/hub.ts";
import type { Session } from "../../lib/hub/session.ts";
import { validateClientFrame } from "../../lib/protocol/client_frames.ts";
import { utf8Length } from "../../lib/dialect/irc/message.ts";
import { type IrcRenderCache, IrcSession } from "../../lib/dialect/irc/session.ts";

/** One IRC user on a hub with no sockets: what is written to it is collected. */
export interface Peer {
  irc: IrcSession;
  /** Every write, as handed to the socket (shared renderings are the same object). */
  writes: Uint8Array[];
  /** The lines written so far, CR LF removed. */
  lines(): string[];
  /** Sends one line from the client. */
  line(text: string): void;
}

/** A hub whose sink renders for IRC peers; `connect` adds an IRC peer with the given CAP REQ. */
export function makeIrcHub(overrides: Partial<Settings> = {}): { hub: Hub<Peer>; connect(caps?: string): Peer } {
  const settings = { ...defaultSettings(), rate_per_s: 0, ...overrides };
  let now = 1_700_000_000_000;
  const sink: HubSink<Peer> = {
    // Peers without an IRC session stand for users of other dialects: their frames are dropped.
    send: (to, frame) => to.peer.irc?.sendFrame(frame),
    broadcast: (to, frame, except) => {
      const cache: IrcRenderCache = new Map();
      for (const session of to) if (session !== except) session.peer.irc?.sendFrame(frame, cache);
    },
    close: () => {},
    accountChanged: (subject, to) => {
      for (const session of to) if (session !== subject) session.peer.irc?.accountChanged(subject.nick!, subject.account?.name);
    },
  };
  const hub = new Hub<Peer>(settings, "9.9.9", sink);
  const connect = (caps = ""): Peer => {
    const writes: Uint8Array[] = [];
    const peer = {
      writes,
      lines: () => writes.flatMap((b) => new TextDecoder().decode(b).split("\r\n").filter((l) => l)),
      line: (text: string) => peer.irc.onLine(text, utf8Length(text)),
    } as Peer;
    const session: Session<Peer> = hub.attach(peer, now);
    peer.irc = new IrcSession({
      settings,
      version: "9.9.9",
      session: session as Session<unknown>,
      lookup: hub as unknown as Hub<unknown>,
      submit: (frame) => {
        const result = validateClientFrame(frame);
        if (result.ok) hub.handle(session, result.frame, ++now);
      },
      write: (bytes) => writes.push(bytes),
      login: (name, password, id, done) => hub.login(session, name, password, id, ++now, done),
    });
    if (caps) peer.line(`CAP REQ :${caps}`);
    return peer;
  };
  return { hub, connect };
}

/** Registers `peer` as `nick` (ending any CAP negotiation) and forgets what it was sent so far. */
export function registerIrc(peer: Peer, nick: string): void {
  peer.line(`NICK ${nick}`);
  peer.line(`USER ${nick} 0 * :${nick}`);
  peer.line("CAP END");
  peer.writes.length = 0;
}

