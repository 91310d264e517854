/**
 * A login load for `tcpchat bench` (`--logins N`): N logins per second, each
 * a fresh connection that says `hello` with an account's nick and its right
 * password, waits for the answer and quits, spread round-robin over
 * `--login-accounts` accounts the run registers first. It runs alongside the
 * fan-out or latency scenario, to measure what password hashing (scrypt, off
 * the event loop, bounded concurrency) costs the chat.
 *
 * Every login comes from this one process, so from one address; the server
 * counts a password attempt against its address (loopback included) from the
 * moment it is made until its hash says it was right, and refuses more than 5
 * at once. So at most `--login-concurrency` (default 4) logins are in flight;
 * a login due while that many are still waiting is not sent and counts as
 * `skipped`: what is achieved is what the server answers that fast.
 *
 * @module
 */

import type { Conn, Runtime } from "../runtime/types.ts";
import { LatencyHistogram, type LatencySummary } from "./histogram.ts";
import { every, sleep } from "./phases.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** One answer line longer than this is not a login answer. */
const MAX_LINE_BYTES = 1024 * 1024;

/** What a login load is asked to do. */
export interface LoginLoadOptions {
  hostname: string;
  port: number;
  tls?: { ca?: string; insecure?: boolean };
  /** Logins per second (> 0). */
  ratePerS: number;
  /** Accounts registered first and logged in to round-robin. */
  accounts: number;
  /** Logins in flight at most (the server refuses more than 5 from one address). */
  concurrency: number;
  /** Account nicks are this prefix, `a` and a number. */
  nickPrefix: string;
  /** Each answer is awaited this long at most. */
  timeoutMs: number;
}

/** Logins by outcome. */
export interface LoginCounts {
  /** Logins sent. */
  attempted: number;
  /** Answered `welcome` with the account. */
  ok: number;
  /** Answered `rate_limited` (guess limit or a full hashing queue). */
  rate_limited: number;
  /** Answered `unavailable`. */
  unavailable: number;
  /** Anything else: another error, no answer in time, a closed connection. */
  failed: number;
  /** Due while `concurrency` logins were still waiting: not sent. */
  skipped: number;
}

/** The login load's part of a run's result (over the measure phase). */
export interface LoginResult extends LoginCounts {
  rate_asked: number;
  accounts: number;
  concurrency: number;
  /** Successful logins per second while measuring. */
  logins_per_s: number;
  /** From connect to `welcome`, successful logins while measuring (microseconds). */
  latency: LatencySummary;
  /** The first refusal or failure, for the reader. */
  first_problem: string | undefined;
}

const zero = (): LoginCounts => ({ attempted: 0, ok: 0, rate_limited: 0, unavailable: 0, failed: 0, skipped: 0 });

/** The bench's account password: fixed, long enough for any `password_min_length` up to 32. */
export function benchPassword(nickPrefix: string): string {
  return `bench-${nickPrefix}-password-0123456789abcdef`;
}

/**
 * Opens a connection, writes `frames` (one JSON line each), and resolves with
 * the first JSON line for which `decisive` is true, or a `{type:"timeout"}`
 * / `{type:"closed"}` stand-in. Closes the connection after `last` is written.
 */
async function exchange(
  runtime: Runtime,
  o: LoginLoadOptions,
  steps: { send: object; decisive: (frame: Record<string, unknown>) => boolean }[],
): Promise<Record<string, unknown>> {
  const target = { hostname: o.hostname, port: o.port };
  let conn: Conn;
  try {
    conn = o.tls ? await runtime.connectTls({ ...target, ...o.tls }) : await runtime.connect(target);
  } catch (error) {
    return { type: "closed", message: (error as Error).message };
  }
  const timer = setTimeout(() => conn.close(), o.timeoutMs);
  let answer: Record<string, unknown> = { type: "closed" };
  try {
    const reader = conn.readable[Symbol.asyncIterator]();
    let partial = "";
    for (const step of steps) {
      await conn.write(encoder.encode(JSON.stringify(step.send) + "\n"));
      answer = { type: "closed" };
      search: for (;;) {
        let lf: number;
        while ((lf = partial.indexOf("\n")) < 0) {
          const next = await reader.next();
          if (next.done) break search;
          partial += decoder.decode(next.value, { stream: true });
          if (partial.length > MAX_LINE_BYTES) break search;
        }
        const line = partial.slice(0, lf);
        partial = partial.slice(lf + 1);
        let frame: Record<string, unknown>;
        try {
          frame = JSON.parse(line);
        } catch {
          continue; // the text greeting
        }
        if (frame.type === "bye" || frame.type === "error" || step.decisive(frame)) {
          answer = frame;
          break;
        }
      }
      if (answer.type === "error" || answer.type === "bye" || answer.type === "closed") break;
    }
    await conn.write(encoder.encode('{"type":"quit"}\n')).catch(() => {});
  } catch {
    // A reset: the answer so far stands.
  } finally {
    clearTimeout(timer);
    conn.close();
  }
  return answer;
}

/**
 * Registers `accounts` accounts (`concurrency` at a time); an account that
 * exists already (`nick_reserved`) is taken as registered by an earlier run
 * with the same prefix. Throws with the server's answer otherwise.
 */
export async function registerAccounts(runtime: Runtime, o: LoginLoadOptions, signal?: AbortSignal): Promise<void> {
  const password = benchPassword(o.nickPrefix);
  let next = 0;
  const worker = async () => {
    while (next < o.accounts && !signal?.aborted) {
      const nick = `${o.nickPrefix}a${next++}`;
      for (let attempt = 0;; attempt++) {
        const answer = await exchange(runtime, o, [
          { send: { type: "hello", nick, client: "tcpchat-bench" }, decisive: (f) => f.type === "welcome" },
          { send: { type: "register", password }, decisive: (f) => f.type === "account" },
        ]);
        if (answer.type === "account" || answer.code === "nick_reserved") break;
        if (answer.code === "rate_limited" && attempt < 20) {
          await sleep(Number(answer.retry_after_ms) || 200);
          continue;
        }
        throw new Error(`registering ${nick}: the server answered ${JSON.stringify(answer).slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
}

/**
 * Logs in at a fixed rate until stopped. Counts are kept from {@linkcode start}
 * on; {@linkcode measure} marks the start and end of the measured span.
 */
export class LoginLoad {
  readonly counts: LoginCounts = zero();
  readonly latency = new LatencyHistogram();
  #recording = false;
  #firstProblem: string | undefined;
  #inFlight = 0;
  #launched = 0;
  #startMs = 0;
  #stopTimer: () => void = () => {};
  readonly #pending = new Set<Promise<void>>();

  constructor(readonly runtime: Runtime, readonly options: LoginLoadOptions) {}

  /** Starts logging in at `ratePerS`. */
  start(): void {
    this.#startMs = performance.now();
    this.#stopTimer = every(5, () => {
      const due = Math.floor(((performance.now() - this.#startMs) * this.options.ratePerS) / 1000);
      while (this.#launched < due) {
        this.#launched++;
        if (this.#inFlight >= this.options.concurrency) {
          this.counts.skipped++;
          continue;
        }
        const login = this.#login(this.#launched - 1);
        this.#pending.add(login);
        login.finally(() => this.#pending.delete(login));
      }
    });
  }

  /** Turns latency recording on (measure phase) or off. */
  set recording(on: boolean) {
    this.#recording = on;
  }

  /** A copy of the counts now. */
  snapshot(): LoginCounts {
    return { ...this.counts };
  }

  /** Stops sending; waits (bounded) for logins in flight. */
  async stop(): Promise<void> {
    this.#stopTimer();
    await Promise.race([Promise.all(this.#pending), sleep(this.options.timeoutMs)]);
  }

  /** The result over the span between two snapshots. */
  result(from: LoginCounts, to: LoginCounts, seconds: number): LoginResult {
    const diff = Object.fromEntries(
      Object.keys(to).map((k) => [k, to[k as keyof LoginCounts] - from[k as keyof LoginCounts]]),
    ) as unknown as LoginCounts;
    return {
      ...diff,
      rate_asked: this.options.ratePerS,
      accounts: this.options.accounts,
      concurrency: this.options.concurrency,
      logins_per_s: seconds > 0 ? diff.ok / seconds : 0,
      latency: this.latency.summary(),
      first_problem: this.#firstProblem,
    };
  }

  async #login(index: number): Promise<void> {
    const o = this.options;
    const nick = `${o.nickPrefix}a${index % o.accounts}`;
    this.#inFlight++;
    this.counts.attempted++;
    const sent = performance.now();
    try {
      const answer = await exchange(this.runtime, o, [{
        send: { type: "hello", nick, password: benchPassword(o.nickPrefix), client: "tcpchat-bench" },
        decisive: (f) => f.type === "welcome",
      }]);
      if (answer.type === "welcome" && answer.account !== undefined) {
        this.counts.ok++;
        if (this.#recording) this.latency.record((performance.now() - sent) * 1000);
        return;
      }
      if (answer.code === "rate_limited") this.counts.rate_limited++;
      else if (answer.code === "unavailable") this.counts.unavailable++;
      else this.counts.failed++;
      this.#firstProblem ??= `${nick}: ${JSON.stringify(answer).slice(0, 200)}`;
    } finally {
      this.#inFlight--;
    }
  }
}
