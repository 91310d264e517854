/**
 * The node's two connections to Redis: one for commands and scripts, one
 * for pub/sub (Redis puts a subscribed connection in a mode that takes no
 * other commands). Client: `@redis/client` (node-redis core), chosen because
 * it is maintained by Redis, has no native parts and runs unchanged on Bun,
 * Deno (npm compatibility), Node and in the compiled executable.
 *
 * Every command goes through {@linkcode RedisLink.call}, which counts round
 * trips and errors, bounds the wait, and turns any failure into
 * {@linkcode StoreUnavailable}: a frame that needed Redis gets `unavailable`,
 * never an ack. Commands are not queued while Redis is away
 * (`disableOfflineQueue`): they fail at once, and the client retries.
 *
 * @module
 */
import type { createClient } from "@redis/client";
import { StoreUnavailable } from "../store/types.ts";

/** What a node tells a client to wait before retrying while Redis is away. */
export const REDIS_RETRY_AFTER_MS = 1000;
/** Connection attempts at start before giving up. */
const START_RETRIES = 3;
/** The longest a command may take before the frame that needed it gets `unavailable`. */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

/** Counters for `/metrics`. */
export interface RedisStats {
  /** Commands answered by Redis. */
  roundTrips: number;
  /** Sum of their round-trip times in seconds. */
  roundTripSeconds: number;
  /** Commands that failed or timed out. */
  errors: number;
  /** Messages and events received from other nodes over pub/sub. */
  relayed: number;
  /** Times the subscriber connection came back after a loss. */
  reconnects: number;
}

/** A raw Redis reply (RESP2 through `sendCommand`). */
export type Reply = string | number | null | Reply[];

type Client = ReturnType<typeof createClient>;
type CreateClient = typeof createClient;

/** The command and subscriber connections of one node. */
export class RedisLink {
  readonly stats: RedisStats = { roundTrips: 0, roundTripSeconds: 0, errors: 0, relayed: 0, reconnects: 0 };
  readonly #commands: Client;
  readonly #subscriber: Client;
  /** Called once both connections are back after a loss (the client resubscribes the channels itself). */
  onResubscribed: () => void = () => {};
  /** Called before every command: sends what waits to be batched (appends), so commands reach Redis in the order they were made. */
  beforeCall: () => void = () => {};
  /** Called once per connection loss, with a line for the log. */
  onLost: (message: string) => void = () => {};
  #needsResume = false;
  #connected = false;
  /** Scripts loaded (or being loaded): text to SHA1. */
  readonly #shas = new Map<string, Promise<string>>();
  #lost = false;
  #closed = false;

  /**
   * Loads the Redis client and makes a link to `url` (not yet connected).
   * The client is loaded here, not at start, so that a server that is not a
   * cluster node does not carry its 2.6 MB of heap (issue 15).
   */
  static async create(url: string): Promise<RedisLink> {
    const { createClient } = await import("@redis/client");
    return new RedisLink(url, createClient);
  }

  private constructor(url: string, createClient: CreateClient) {
    const options = {
      url,
      disableOfflineQueue: true,
      // Ping so a silently dead path (a cut network) is noticed within seconds.
      pingInterval: 1000,
      socket: {
        // At start a few tries, then `serve` fails with one line; once connected, retry for ever.
        reconnectStrategy: (retries: number, cause: Error) =>
          !this.#connected && retries >= START_RETRIES
            ? new Error(cause?.message || "connection refused")
            : Math.min(50 * 2 ** retries, 1000),
        connectTimeout: 2000,
      },
    };
    this.#commands = createClient(options);
    this.#subscriber = createClient(options);
    for (const client of [this.#commands, this.#subscriber]) {
      // Errors are reported through the failed commands and the reconnect; an unhandled one would end the process.
      client.on("error", (error: Error) => this.#lose(error.message));
      client.on("end", () => this.#lose("connection ended"));
    }
    // The two connections come back independently: resume once both are up.
    for (const client of [this.#commands, this.#subscriber]) client.on("ready", () => this.#maybeResume());
  }

  #maybeResume(): void {
    if (!this.up) return;
    this.#lost = false;
    if (!this.#needsResume) return;
    this.#needsResume = false;
    this.stats.reconnects++;
    this.onResubscribed();
  }

  /** Connects both connections; rejects when Redis cannot be reached at start. */
  async connect(): Promise<void> {
    await Promise.all([this.#commands.connect(), this.#subscriber.connect()]);
    this.#connected = true;
  }

  /** Whether both connections are up now (`/readyz`). */
  get up(): boolean {
    return !this.#closed && this.#commands.isReady && this.#subscriber.isReady;
  }

  /**
   * Runs one command; any failure becomes {@linkcode StoreUnavailable}.
   * `EVAL` is sent as `EVALSHA` once the script is loaded (the hot path
   * then carries no script text); after a Redis restart forgot the script,
   * the one `NOSCRIPT` answer (the script did not run) is retried as `EVAL`.
   */
  async call(args: (string | number)[]): Promise<Reply> {
    this.beforeCall();
    if (args[0] !== "EVAL") return await this.#send(args);
    const script = String(args[1]);
    // One load per script, awaited by every call: each call waits exactly one turn, so calls reach Redis in the
    // order they were made (a sender's messages keep their order).
    let loading = this.#shas.get(script);
    if (loading === undefined) {
      loading = this.#send(["SCRIPT", "LOAD", script]).then(String);
      this.#shas.set(script, loading);
      loading.catch(() => this.#shas.get(script) === loading && this.#shas.delete(script));
    }
    const sha = await loading;
    try {
      return await this.#send(["EVALSHA", sha, ...args.slice(2)]);
    } catch (error) {
      if (!(error as Error).message.includes("NOSCRIPT")) throw error;
      return await this.#send(args);
    }
  }

  async #send(args: (string | number)[]): Promise<Reply> {
    if (!this.#commands.isReady) {
      this.stats.errors++;
      throw new StoreUnavailable("the cluster store (Redis) is unreachable", REDIS_RETRY_AFTER_MS);
    }
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const reply = await Promise.race([
        this.#commands.sendCommand(args.map(String)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out")), REDIS_COMMAND_TIMEOUT_MS);
        }),
      ]);
      this.stats.roundTrips++;
      this.stats.roundTripSeconds += (performance.now() - started) / 1000;
      return reply as unknown as Reply;
    } catch (error) {
      this.stats.errors++;
      throw new StoreUnavailable(`the cluster store (Redis) failed: ${(error as Error).message}`, REDIS_RETRY_AFTER_MS);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Subscribes to `channel`; `listener` gets each message's text. Resolves once Redis confirmed. */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    try {
      await this.#subscriber.subscribe(channel, listener);
    } catch (error) {
      this.stats.errors++;
      throw new StoreUnavailable(`cannot subscribe: ${(error as Error).message}`, REDIS_RETRY_AFTER_MS);
    }
  }

  /** Unsubscribes from `channel`; a failure is harmless (the connection's loss drops it anyway). */
  async unsubscribe(channel: string): Promise<void> {
    await this.#subscriber.unsubscribe(channel).catch(() => {});
  }

  #lose(message: string): void {
    if (this.#closed) return;
    this.#needsResume = true;
    if (this.#lost) return;
    this.#lost = true;
    this.onLost(message);
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([this.#commands.close(), this.#subscriber.close()]);
  }
}
