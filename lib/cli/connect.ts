/**
 * `tcpchat connect`: the interactive terminal client. Incoming lines are
 * printed above the prompt without disturbing what the user is typing; the
 * slash commands are the text dialect's, plus `/switch ROOM`. With stdin not
 * a terminal it sends each input line and exits at the end, so it composes
 * with pipes.
 *
 * @module
 */
import process from "node:process";
import * as readline from "node:readline";
import { ChatClient, ChatError } from "../client/chat_client.ts";
import { formatFrame, formatStatus } from "../client/terminal_format.ts";
import { roomName } from "../protocol/names.ts";
import type { ServerFrame } from "../protocol/server_frames.ts";
import { parseTextLine, TEXT_HELP } from "../protocol/text_commands.ts";
import type { Runtime } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { parseAddress } from "./address.ts";
import { parseCommandArgs } from "./args.ts";
import { CliError } from "./cli_error.ts";
import { carriesPassword, forgetLastHistory, askHidden } from "./password_prompt.ts";
import { clientPassword, clientTls, SECURITY_OPTIONS, SECURITY_USAGE } from "./client_security.ts";

const USAGE = `Usage: tcpchat connect [HOST:PORT] --nick NAME [--room ROOM ...] [--no-color]
                       [--tls] [--ca FILE] [--insecure] [--password-prompt]

Chat in a terminal. HOST:PORT defaults to 127.0.0.1:7777. Type a line to talk in
the current room (shown in the prompt); /help lists commands. Ctrl-C or Ctrl-D
leaves. With stdin not a terminal, each input line is sent and the client exits
when input ends. When the server says the nick is a registered account, the
password is asked for on the terminal, without echo.

${SECURITY_USAGE}`;

const EXTRA_HELP = [
  "/switch ROOM        make a joined room the current one",
  "/register, /passwd and /drop without arguments ask for the passwords without echoing them",
];
/** `/history` here: scrollback before the oldest message shown (the server's text dialect has its own). */
const SCROLLBACK_HELP = "/history [N]        show N (default 20) messages before the oldest shown here";

/** Runs the interactive client; resolves with the exit code. */
export async function connectCommand(runtime: Runtime, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    nick: { type: "string", short: "n" },
    room: { type: "string", short: "r", multiple: true },
    "no-color": { type: "boolean" },
    ...SECURITY_OPTIONS,
  }, USAGE);
  if (positionals.length > 1) throw new CliError(`unexpected argument ${positionals[1]}`, USAGE);
  if (!values.nick) throw new CliError("--nick is required", USAGE);
  for (const room of values.room ?? []) {
    if (roomName(room) === undefined) throw new CliError(`not a room name: ${room}`, USAGE);
  }
  const { host, port } = parseAddress(positionals[0], USAGE);
  const interactive = runtime.isTerminal("stdin");
  const color = runtime.isTerminal("stdout") && !runtime.env("NO_COLOR") && !values["no-color"];
  const tls = await clientTls(runtime, values, USAGE);
  // Asked before the session takes over the terminal.
  const password = await clientPassword(runtime, values, USAGE);

  const client = new ChatClient({
    runtime,
    host,
    port,
    nick: values.nick,
    rooms: (values.room ?? []).map((r) => roomName(r)!),
    client: `tcpchat-connect/${VERSION}`,
    tls,
    password,
  });
  const session = new TerminalSession(client, interactive, color);
  return await session.run(host, port, !tls ? "" : tls.insecure ? "TLS (certificate not checked: --insecure)" : "TLS");
}

/** One run of the client: wiring between the chat client and the terminal. */
class TerminalSession {
  #current: string | null = null;
  /** Per room, the oldest seq shown so far: `/history` pages back from it. */
  readonly #oldestShown = new Map<string, number>();
  readonly #rl: readline.Interface;
  #exit!: (code: number) => void;
  #quitting = false;
  /** Registered once; from then on a "closed" state not asked for ends the program. */
  #online = false;

  constructor(readonly client: ChatClient, readonly interactive: boolean, readonly color: boolean) {
    this.#rl = readline.createInterface({
      input: process.stdin,
      output: interactive ? process.stdout : undefined,
      terminal: interactive,
      historySize: 500,
    });
  }

  get #format() {
    return { color: this.color, self: this.client.nick };
  }

  /** Prints above the prompt, keeping the half-typed line as it was. */
  #print(line: string): void {
    if (!this.interactive) {
      process.stdout.write(line + "\n");
      return;
    }
    readline.cursorTo(process.stdout, 0);
    readline.clearLine(process.stdout, 0);
    process.stdout.write(line + "\n");
    this.#rl.prompt(true);
  }

  #status(text: string): void {
    this.#print(formatStatus(text, this.#format));
  }

  #setCurrent(room: string | null): void {
    this.#current = room;
    this.#rl.setPrompt(room ? `[${room}] ` : "[no room] ");
    if (this.interactive) this.#rl.prompt(true);
  }

  async run(host: string, port: number, transport: string): Promise<number> {
    const done = new Promise<number>((resolve) => (this.#exit = resolve));
    this.#subscribe();
    this.#rl.pause();
    try {
      await this.#connect();
    } catch (error) {
      this.#rl.close();
      const message = error instanceof ChatError ? error.message : (error as Error).message;
      process.stderr.write(`tcpchat: cannot join ${host}:${port}: ${message}\n`);
      return 1;
    }
    this.#online = true;
    this.#status(`connected to ${host}:${port}${transport ? ` over ${transport}` : ""} as ${this.client.nick}; /help for commands`);
    if (this.#current === null) this.#setCurrent([...this.client.rooms.keys()].at(-1) ?? null);
    this.#readInput();
    return await done;
  }

  /** Connects; a registered nick without a (right) password is asked for one, a few times, on a terminal. */
  async #connect(): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        await this.client.connect();
        if (this.client.account) this.#status(`logged in as ${this.client.account}`);
        return;
      } catch (error) {
        const code = error instanceof ChatError ? error.code : "";
        if (!this.interactive || attempt >= 3 || (code !== "nick_reserved" && code !== "unauthorized")) throw error;
        if (code === "unauthorized") this.#status("wrong password");
        this.client.usePassword(await askHidden(this.#rl, `password for ${this.client.nick}: `));
        this.#rl.pause();
      }
    }
  }

  #subscribe(): void {
    const show = (frame: ServerFrame) => {
      const line = formatFrame(frame, this.#format);
      if (line !== null) this.#print(line);
    };
    this.client.on("msg", (msg) => {
      const oldest = this.#oldestShown.get(msg.room);
      if (oldest === undefined || msg.seq < oldest) this.#oldestShown.set(msg.room, msg.seq);
    });
    for (
      const event of [
        "msg",
        "dm",
        "join",
        "leave",
        "nick",
        "presence",
        "crowd",
        "error",
        "left",
        "topic",
        "mode",
        "role",
        "ban",
        "invite",
        "account",
      ] as const
    ) {
      this.client.on(event, show);
    }
    this.client.on("room", (room) => {
      // A crowded room's snapshot lists some of its members: say how many there are and how to page through them.
      const more = (room.member_count ?? room.members.length) - room.members.length;
      const ops = room.ops?.length ? `; operators: ${room.ops.map((o) => `@${o}`).join(", ")}` : "";
      this.#status(
        `in #${room.room} with ${room.members.join(", ")}` +
          (more > 0 ? ` and ${more} more (${room.member_count} members; /who ${room.room} lists them)` : "") + ops,
      );
      if (room.topic) this.#status(`topic of #${room.room}: ${room.topic}`);
      this.#setCurrent(room.room);
    });
    this.client.on("leave", (leave) => {
      if (leave.nick === this.client.nick && this.#current === leave.room) {
        this.#setCurrent([...this.client.rooms.keys()].at(-1) ?? null);
      }
    });
    this.client.on("left", (left) => {
      if (this.#current === left.room) this.#setCurrent([...this.client.rooms.keys()].at(-1) ?? null);
    });
    this.client.on("bye", (bye) => bye.reason !== "quit" && this.#status(`server said bye (${bye.reason})`));
    this.client.on("state", (s) => {
      if (s.state === "reconnecting") {
        this.#status(`connection lost (${s.reason}); reconnecting in ${(s.delayMs! / 1000).toFixed(1)} s (attempt ${s.attempt})`);
      } else if (s.state === "closed" && this.#online && !this.#quitting) {
        // The client gave up by itself (its password stopped working): say why and exit 1.
        this.#status(`disconnected: ${s.reason}`);
        this.#quitting = true;
        this.#rl.close();
        this.#exit(1);
      }
    });
    this.client.on("welcome", (w) => w.resumed && this.#status(`reconnected as ${w.welcome.nick}`));
    this.client.on("resumed", (r) => {
      const lost = r.lost ? `; ${r.lost} older messages are no longer kept by the server` : "";
      this.#status(`caught up ${r.caughtUp} message${r.caughtUp === 1 ? "" : "s"} in #${r.room}${lost}`);
    });
    this.client.on("renamed", (r) => this.#status(`${r.old} was still taken after reconnecting; you are now ${r.new}`));
  }

  #readInput(): void {
    this.#rl.resume();
    // Piped input is handled one line at a time, so messages go out in order.
    let queue = Promise.resolve();
    this.#rl.on("line", (line) => {
      // A password typed on the command line must not stay in the history (up arrow).
      if (carriesPassword(line)) forgetLastHistory(this.#rl, line);
      if (this.interactive) {
        // Erase the echoed input line: what was said comes back from the server, with its time.
        readline.moveCursor(process.stdout, 0, -1);
        readline.clearLine(process.stdout, 0);
      }
      queue = queue.then(() => this.#onLine(line));
      if (this.interactive) this.#rl.prompt();
    });
    this.#rl.on("SIGINT", () => void this.#quit());
    this.#rl.on("close", () => void queue.then(() => this.#quit()));
    if (this.interactive) this.#rl.prompt();
  }

  async #onLine(line: string): Promise<void> {
    if (this.#quitting || line.trim() === "") return;
    const trimmed = line.trim();
    if (trimmed === "/help") {
      for (const help of [...TEXT_HELP.map((h) => (h.startsWith("/history") ? SCROLLBACK_HELP : h)), ...EXTRA_HELP]) {
        this.#status(help);
      }
      return;
    }
    if (/^\/history(\s|$)/i.test(trimmed)) return await this.#scrollback(trimmed.slice(8).trim());
    if (trimmed.startsWith("/switch")) {
      const room = roomName(trimmed.slice(7).trim());
      if (room && this.client.rooms.has(room)) this.#setCurrent(room);
      else this.#status(`/switch takes a room you are in: ${[...this.client.rooms.keys()].join(", ")}`);
      return;
    }
    const asked = this.interactive ? await this.#askPasswords(trimmed) : null;
    if (asked === false) return;
    const input = parseTextLine(asked ?? line, { registered: true, currentRoom: this.#current });
    if (input.kind === "help") return;
    if (input.kind === "show_topic") {
      const topic = this.client.roomInfo(input.room)?.topic;
      return this.#status(topic ? `topic of #${input.room}: ${topic}` : `#${input.room} has no topic`);
    }
    if (input.kind === "error") return this.#print(formatFrame({ type: "error", code: input.code, message: input.message }, this.#format)!);
    const frame = input.frame;
    if (frame.type === "quit") return await this.#quit(frame.reason);
    try {
      const answer = await this.client.request(frame);
      // Events already show msg, dm, nick, presence and joins; these answers have no event.
      if (answer.type === "who" || answer.type === "rooms" || answer.type === "pong" || answer.type === "bans") {
        this.#print(formatFrame(answer, this.#format)!);
      }
    } catch (error) {
      const e = error as ChatError;
      this.#print(formatFrame({ type: "error", code: (e.code ?? "error") as never, message: e.message.replace(/^\w+: /, "") }, this.#format)!);
    }
  }

  /**
   * `/register`, `/passwd` or `/drop` typed without passwords: asks for them
   * without echo and returns the full command; false when the user gave up
   * (an empty answer); null for any other line.
   */
  async #askPasswords(trimmed: string): Promise<string | false | null> {
    const command = trimmed.toLowerCase();
    if (command !== "/register" && command !== "/passwd" && command !== "/drop") return null;
    const ask = async (question: string) => {
      const answer = await askHidden(this.#rl, question);
      return answer === "" ? null : answer;
    };
    const first = await ask(command === "/passwd" ? "current password: " : "password: ");
    if (first === null) return false;
    if (command !== "/passwd") {
      if (command === "/register" && (await ask("again: ")) !== first) {
        this.#status("the passwords differ; nothing changed");
        return false;
      }
      return `${command} ${first}`;
    }
    const second = await ask("new password: ");
    return second === null ? false : `/passwd ${first} ${second}`;
  }

  /** `/history [N]`: fetches the page before the oldest message shown in the current room and prints it. */
  async #scrollback(count: string): Promise<void> {
    const room = this.#current;
    if (room === null) return this.#status("join a room first: /join ROOM");
    if (count !== "" && !/^\d{1,3}$/.test(count)) return this.#status("usage: /history [N] (N from 1 to 100)");
    const before = this.#oldestShown.get(room);
    try {
      const page = await this.client.history(room, { limit: count === "" ? 20 : Number(count), ...(before ? { before } : {}) });
      if (page.msgs.length === 0) return this.#status(`no earlier messages kept in #${room}`);
      this.#status(`#${room} history, messages ${page.msgs[0].seq}-${page.msgs.at(-1)!.seq}` +
        (page.more ? " (/history again for earlier ones)" : " (nothing earlier is kept)"));
      for (const msg of page.msgs) this.#print(formatFrame(msg, this.#format)!);
      this.#oldestShown.set(room, page.msgs[0].seq);
    } catch (error) {
      const e = error as ChatError;
      this.#print(formatFrame({ type: "error", code: (e.code ?? "error") as never, message: e.message.replace(/^\w+: /, "") }, this.#format)!);
    }
  }

  async #quit(reason?: string): Promise<void> {
    if (this.#quitting) return;
    this.#quitting = true;
    await this.client.close(reason);
    if (this.interactive) process.stdout.write("\n");
    this.#rl.close();
    this.#exit(0);
  }
}
