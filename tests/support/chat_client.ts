/**
 * A deliberately plain test client over node:net: it sends raw bytes or JSON
 * frames and reads lines, so tests see exactly what a user's program would.
 */
import * as net from "node:net";
import * as tls from "node:tls";

/** A frame as received (parsed JSON). */
// deno-lint-ignore no-explicit-any
export type Frame = Record<string, any>;

/** One TCP client of the chat server. */
export class TestClient {
  readonly lines: string[] = [];
  #buffer = "";
  #waiter: (() => void) | null = null;
  #ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (data: string) => {
      this.#buffer += data;
      let nl: number;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        const raw = Buffer.from(this.#buffer.slice(0, nl), "latin1").toString("utf8");
        this.lines.push(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
        this.#buffer = this.#buffer.slice(nl + 1);
      }
      this.#wake();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.#ended = true;
        this.#wake();
        resolve();
      })
    );
  }

  /** Connects to the server (optionally from a given local address, e.g. 127.0.0.2). */
  static connect(port: number, options: { host?: string; localAddress?: string } = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: options.host ?? "127.0.0.1", localAddress: options.localAddress });
      socket.once("connect", () => resolve(new TestClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Connects over TLS, trusting `ca` (PEM text) or nothing at all with `insecure`. */
  static connectTls(port: number, options: { ca?: string; insecure?: boolean; host?: string } = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        port,
        host: options.host ?? "127.0.0.1",
        ca: options.ca,
        rejectUnauthorized: options.insecure !== true,
      });
      socket.once("secureConnect", () => resolve(new TestClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Connects and registers with `hello`; returns once `welcome` (and the default room) arrived. */
  static async register(port: number, nick: string, options: { defaultRoom?: string | null } = {}) {
    const client = await TestClient.connect(port);
    client.send({ type: "hello", nick });
    await client.waitFor((f) => f.type === "welcome");
    const room = options.defaultRoom === undefined ? "lobby" : options.defaultRoom;
    if (room) await client.waitFor((f) => f.type === "join" && f.nick === nick && f.room === room);
    return client;
  }

  /** Whether the server has closed the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  /** Sends a frame as one JSON line, or a string as is. */
  send(frame: Frame | string): void {
    this.socket.write(typeof frame === "string" ? frame : JSON.stringify(frame) + "\n");
  }

  /** Sends raw bytes. */
  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next line, waiting up to `timeoutMs`. */
  async nextLine(timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.#ended) throw new Error("connection closed while waiting for a line");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.lines.shift()!;
  }

  /** The next line parsed as JSON. */
  async next(timeoutMs = 3000): Promise<Frame> {
    const line = await this.nextLine(timeoutMs);
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`not JSON: ${line}`);
    }
  }

  /** Skips frames until one matches; throws with what was seen on timeout. */
  waitFor(match: (frame: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    return this.#skipUntil((ms) => this.next(ms), match, (f) => JSON.stringify(f), timeoutMs);
  }

  /** Skips text lines until one matches. */
  waitForLine(match: RegExp | string, timeoutMs = 3000): Promise<string> {
    const test = (line: string) => (typeof match === "string" ? line.includes(match) : match.test(line));
    return this.#skipUntil((ms) => this.nextLine(ms), test, (l) => l, timeoutMs);
  }

  async #skipUntil<T>(
    read: (timeoutMs: number) => Promise<T>,
    match: (item: T) => boolean,
    show: (item: T) => string,
    timeoutMs: number,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    const seen: string[] = [];
    for (;;) {
      let item: T;
      try {
        item = await read(Math.max(1, deadline - Date.now()));
      } catch (error) {
        throw new Error(`${(error as Error).message}; saw: ${seen.slice(-5).join(" | ")}`);
      }
      if (match(item)) return item;
      seen.push(show(item));
    }
  }

  /** Sends a frame with an id and waits for the answer carrying that id. */
  async request(frame: Frame, timeoutMs = 3000): Promise<Frame> {
    const id = frame.id ?? `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...frame, id });
    return await this.waitFor((f) => f.id === id, timeoutMs);
  }

  /**
   * Joins `room` with `since` and follows the snapshot's `more` with `history`
   * `after` pages, as the bundled client does: the snapshot with `history`
   * holding everything kept after `since`.
   */
  async joinSince(room: string, since: number, timeoutMs = 10_000): Promise<Frame> {
    const snap = await this.request({ type: "join", room, since }, timeoutMs);
    const history = [...(snap.history as Frame[])];
    for (let more = snap.more === true; more;) {
      const after = (history.at(-1)?.seq as number | undefined) ?? since;
      const page = await this.request({ type: "history", room, after, limit: 100 }, timeoutMs);
      history.push(...(page.msgs as Frame[]));
      more = page.more === true && (page.msgs as Frame[]).length > 0;
    }
    return { ...snap, history };
  }

  /** Resolves once the server closed the connection; rejects after `timeoutMs`. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.closed,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }

  /** Drops buffered lines. */
  clear(): void {
    this.lines.length = 0;
  }

  /** Closes politely (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Closes abruptly with a reset (RST). */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  /** Closes without waiting. */
  destroy(): void {
    this.socket.destroy();
  }
}
