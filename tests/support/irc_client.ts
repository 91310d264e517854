/**
 * A real IRC client for the end-to-end suites: irc-framework (the library
 * behind Kiwi IRC and many bots), wrapped so tests can wait for the raw lines
 * the server sent and for its parsed events.
 */
// @ts-ignore: irc-framework ships no types; the few calls below are typed by IrcFrameworkClient.
import IRC from "irc-framework";

/** The parts of irc-framework's Client the tests use. */
interface IrcFrameworkClient {
  connect(options: Record<string, unknown>): void;
  on(event: string, listener: (event: Record<string, unknown>) => void): void;
  requestCap(cap: string | string[]): void;
  raw(...args: string[]): void;
  say(target: string, text: string): void;
  action(target: string, text: string): void;
  join(channel: string): void;
  quit(message?: string): void;
  connection: { end(): void };
  network: { cap: { enabled: string[] }; options: Record<string, string> };
  user: { nick: string };
}

/** An IRC client connected through irc-framework. */
export class IrcTestClient {
  readonly client: IrcFrameworkClient;
  /** Every line the server sent, in order. */
  readonly lines: string[] = [];
  /** Where the next `waitForLine` starts looking. */
  #cursor = 0;
  readonly #waiters = new Set<() => void>();
  closed = false;

  private constructor(client: IrcFrameworkClient) {
    this.client = client;
    client.on("raw", (event) => {
      if (!event.from_server) return;
      this.lines.push(String(event.line).replace(/\r?\n$/, ""));
      this.#wake();
    });
    client.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    client.on("socket close", () => {
      this.closed = true;
      this.#wake();
    });
  }

  /** Connects and resolves once registered (001 received). */
  static async connect(
    port: number,
    nick: string,
    options: { caps?: string[]; echo?: boolean; [key: string]: unknown } = {},
  ): Promise<IrcTestClient> {
    const { caps, echo, ...rest } = options;
    const client = new (IRC as { Client: new () => IrcFrameworkClient }).Client();
    if (caps) client.requestCap(caps);
    const wrapped = new IrcTestClient(client);
    client.connect({
      host: "127.0.0.1",
      port,
      nick,
      username: nick,
      gecos: `${nick} realname`,
      auto_reconnect: false,
      enable_echomessage: echo ?? false,
      ...rest,
    });
    await wrapped.waitForLine(/ 001 /);
    return wrapped;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Waits for the next line (from the cursor on) that matches, and moves the cursor past it. */
  async waitForLine(match: RegExp | string, timeoutMs = 3000): Promise<string> {
    const test = (line: string) => typeof match === "string" ? line.includes(match) : match.test(line);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.#cursor; i < this.lines.length; i++) {
        if (test(this.lines[i])) {
          this.#cursor = i + 1;
          return this.lines[i];
        }
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        throw new Error(`no line ${match} (${this.closed ? "closed" : "timeout"}); last lines:\n${this.lines.slice(-8).join("\n")}`);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /** Like {@linkcode waitForLine}, returning the line without its tags (irc-framework always asks for server-time). */
  async waitForUntagged(match: RegExp | string, timeoutMs = 3000): Promise<string> {
    return (await this.waitForLine(match, timeoutMs)).replace(/^@\S+ /, "");
  }

  /** Lines after the cursor up to and including the first one matching `end`. */
  async collectUntil(end: RegExp | string, timeoutMs = 3000): Promise<string[]> {
    const start = this.#cursor;
    await this.waitForLine(end, timeoutMs);
    return this.lines.slice(start, this.#cursor);
  }

  /** Moves the cursor to the end: later waits see only new lines. */
  skip(): void {
    this.#cursor = this.lines.length;
  }

  /** Sends a raw line. */
  send(line: string): void {
    this.client.raw(line);
  }

  /** Closes the socket without QUIT. */
  destroy(): void {
    this.client.connection.end();
  }
}
