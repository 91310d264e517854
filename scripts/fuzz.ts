/**
 * Protocol fuzzer: feeds random and mutated frames, cut into chunks at random
 * points, through real connections to a real server, batch after batch, and
 * checks after every batch that the server is up, answers a fresh probe
 * client, cleaned up every fuzz connection, kept a sentinel client's room
 * stream whole, logged no error, and kept its memory bounded. "Abuse"
 * connections attack as in issue 17 (`fuzz_abuse.ts`): look-alike nicks of
 * the sentinel, text that is not inert, lone surrogates, rename floods and
 * 40 frames in one write; nobody may receive a lone surrogate or a
 * look-alike, no text user a raw bidi control, and no connection may put
 * more than one line a second per error code in the log. "Strict"
 * connections send only lines the server must reject and check that each got
 * exactly one error, with the right code, in order.
 *
 * A failing batch is saved, byte for byte, as a regression case (one JSON
 * file with a description) that `tests/e2e/fuzz.test.ts` replays.
 *
 * ```sh
 * npm run fuzz -- --seconds 600 --runtime deno     # long run
 * npm run fuzz -- --iterations 20 --seed 42        # reproducible
 * ```
 *
 * Only 127.0.0.1 is used; the run is bounded by `--seconds` or `--iterations`.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodeJsonFrame } from "../lib/protocol/client_frames.ts";
import { LineSplitter } from "../lib/protocol/line_splitter.ts";
import { type Frame, TestClient } from "../tests/support/chat_client.ts";
import { type ChatServerProcess, startChatServer } from "../tests/support/chat_server.ts";
import { ALL_RUNTIMES, REPO_ROOT, type RuntimeName } from "../tests/support/runtimes.ts";
import { abuseWrite, frameProblems, logFloodProblems, lookalikeNick, textOutputProblems } from "./fuzz_abuse.ts";

/** Server flags every fuzz run and replay uses: small limits, so the fuzzer reaches them often. */
export const FUZZ_FLAGS: readonly string[] = [
  "--max-frame", "2048", "--max-text", "300", "--register-timeout", "5s", "--max-pending", "256KiB",
  "--history", "50", "--max-rooms", "300", "--flood-strikes", "20",
];
const MAX_FRAME = 2048;
/** Where failing batches go by default. */
export const REGRESSIONS_DIR: string = join(REPO_ROOT, "tests", "fuzz_regressions");
const CORPUS_DIR = join(REPO_ROOT, "tests", "fuzz_corpus");

const enc = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Cuts `bytes` at the given points (taken modulo the length, sorted, deduplicated). */
export function chunkAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** A small seeded PRNG (mulberry32), so a run is reproducible from its seed. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed lines of tests/fuzz_corpus. */
export interface Corpus {
  json: string[];
  text: string[];
}

/** Reads the corpus files (one entry a line). */
export function loadCorpus(): Corpus {
  const read = (name: string) => readFileSync(join(CORPUS_DIR, name), "utf8").split("\n").filter((l) => l !== "");
  return { json: read("json_frames.txt"), text: read("text_lines.txt") };
}

/** One scripted fuzz connection: what it writes, how fast, and how it ends. */
export interface FuzzConnection {
  /** json/strict/abuse register first; text speaks the text dialect; raw is anything; stall stops reading. */
  kind: "json" | "strict" | "text" | "raw" | "stall" | "abuse";
  /** Each write's bytes, base64. */
  writes: string[];
  /** Pause after each write, ms. */
  gapMs: number;
  /** FIN, RST, or left open until the batch is over. */
  end: "fin" | "reset" | "open";
  /** strict only: the error code each rejected line must get, in order. */
  expectErrors?: string[];
}

/** A saved batch: replayed by the regression test. */
export interface FuzzCase {
  description: string;
  /** Set while the bug the case shows is not fixed: the replay then expects the case to fail. */
  open_bug?: string;
  found?: { runtime: string; seed: number; batch: number; at: string; failure: string };
  connections: FuzzConnection[];
}

// ---- Generating input -------------------------------------------------------

const INTERESTING_BYTES = [0x00, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x3a, 0x5b, 0x5c, 0x5d, 0x7b, 0x7d, 0x7f, 0x80, 0xc0, 0xe2, 0xed, 0xf4, 0xff];
const INTERESTING_VALUES: unknown[] = [
  null, true, 0, -1, 1e308, -0.5, 2 ** 53 + 1, "", "#", "lobby", "#lobby", "a".repeat(65), "x".repeat(400),
  "\u0000", "\u202e", "\ud800", "ｂｏｂ", [], [1, [2, [3]]], {}, { type: "hello" }, "ping", "__proto__",
];
const FRAME_TYPES = ["hello", "nick", "join", "leave", "msg", "dm", "who", "rooms", "status", "ping", "pong", "quit", "", "HELLO", "constructor", "toString"];
const TELNET = [[255, 253, 1], [255, 251, 31], [255, 244, 255, 253, 6], [255, 250, 24, 1, 255, 240], [255, 255], [255], [255, 250, 1, 2, 3]];

/** A mutation of `bytes`: flips, inserts, deletes, duplicates, truncates or splices. */
export function mutateBytes(rng: Rng, bytes: Uint8Array, other: Uint8Array): Uint8Array {
  const out = Array.from(bytes);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(7)) {
      case 0:
        if (out.length) out[Math.min(at, out.length - 1)] ^= 1 << rng.int(8);
        break;
      case 1:
        if (out.length) out[Math.min(at, out.length - 1)] = rng.pick(INTERESTING_BYTES);
        break;
      case 2:
        out.splice(at, 0, ...Array.from({ length: 1 + rng.int(8) }, () => rng.int(256)));
        break;
      case 3:
        out.splice(at, 1 + rng.int(16));
        break;
      case 4:
        out.splice(at, 0, ...out.slice(at, at + 1 + rng.int(32)));
        break;
      case 5:
        out.length = at;
        break;
      case 6:
        out.splice(at, out.length, ...Array.from(other.subarray(rng.int(other.length + 1))));
        break;
    }
  }
  return Uint8Array.from(out);
}

/** A structural mutation of a JSON frame: a field replaced, removed, added, or the type changed. */
function mutateJson(rng: Rng, line: string): string {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line);
  } catch {
    return line;
  }
  const keys = Object.keys(value);
  switch (rng.int(6)) {
    case 0:
      value[rng.pick(keys)] = rng.pick(INTERESTING_VALUES);
      break;
    case 1:
      delete value[rng.pick(keys)];
      break;
    case 2:
      value.type = rng.pick(FRAME_TYPES);
      break;
    case 3:
      value[rng.pick(["id", "room", "text", "nick", "since", "t", "to", "status", "note", "zzz"])] = rng.pick(INTERESTING_VALUES);
      break;
    case 4:
      value.id = "i".repeat(60 + rng.int(10));
      break;
    case 5:
      return rng.chance(0.5) ? `[${line}]` : `${"[".repeat(1 + rng.int(3000))}${line}`;
  }
  return JSON.stringify(value);
}

/** A line around max_frame: exactly at the bound, one past it, with a CR, or far past it. */
function boundaryLine(rng: Rng): Uint8Array {
  const length = rng.pick([MAX_FRAME - 1, MAX_FRAME, MAX_FRAME + 1, MAX_FRAME + 2, MAX_FRAME * 3, 100_000]);
  const line = new Uint8Array(length).fill(rng.pick([0x78, 0x7b, 0x2f]));
  if (rng.chance(0.3)) line[length - 1] = 0x0d;
  return line;
}

function randomBytes(rng: Rng, max: number): Uint8Array {
  return Uint8Array.from({ length: rng.int(max) }, () => (rng.chance(0.2) ? rng.pick(INTERESTING_BYTES) : rng.int(256)));
}

/** One line (without its LF) for a connection of `kind`. */
function fuzzLine(rng: Rng, corpus: Corpus, kind: FuzzConnection["kind"]): Uint8Array {
  const seeds = kind === "text" ? corpus.text : corpus.json;
  const seed = rng.pick(seeds);
  switch (rng.int(10)) {
    case 0:
    case 1:
      return enc.encode(seed);
    case 2:
    case 3:
      return enc.encode(kind === "text" ? seed : mutateJson(rng, seed));
    case 4:
    case 5:
    case 6:
      return mutateBytes(rng, enc.encode(seed), enc.encode(rng.pick(seeds)));
    case 7:
      return boundaryLine(rng);
    case 8:
      return Uint8Array.from([...enc.encode(seed.slice(0, rng.int(seed.length))), ...rng.pick(TELNET), ...enc.encode(seed)]);
    default:
      return randomBytes(rng, 200);
  }
}

/** The server's answer to one line of a registered JSON connection, as the library decides it: an error code, or null for a frame. */
function verdictOf(line: Uint8Array): string | null {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    return "bad_frame";
  }
  const decoded = decodeJsonFrame(text);
  return decoded.ok ? null : decoded.problem.code;
}

/** The errors a registered JSON connection must get for `bytes`, or null if some line in it is a valid frame. */
export function expectedErrors(bytes: Uint8Array): string[] | null {
  const codes: (string | null)[] = [];
  const splitter = new LineSplitter(MAX_FRAME);
  splitter.push(bytes, { onLine: (line) => codes.push(verdictOf(line)), onTooLarge: () => codes.push("frame_too_large") });
  return codes.includes(null) ? null : (codes as string[]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

/**
 * Open bug (tests/fuzz_regressions/telnet-filter-swallows-json-input.json): while the
 * dialect is unknown, the server runs a whole read chunk through the telnet filter, so
 * 0xFF in a JSON client's first chunk is stripped instead of refused, a telnet answer
 * reaches the JSON client, and IAC SB swallows the rest of the chunk. JSON-dialect
 * scripts leave 0xFF out unless `withOpenBugs`, so the fuzzer looks for other bugs.
 */
function avoidOpenBugs(bytes: Uint8Array): Uint8Array {
  return bytes.map((b) => (b === 0xff ? 0xfe : b));
}

/** Builds one connection's script. */
function makeConnection(
  rng: Rng,
  corpus: Corpus,
  kind: FuzzConnection["kind"],
  nick: string,
  withOpenBugs: boolean,
): FuzzConnection {
  if (kind === "abuse") return makeAbuseConnection(rng, nick);
  const jsonDialect = kind === "json" || kind === "strict" || kind === "stall";
  const clean = (bytes: Uint8Array) => (jsonDialect && !withOpenBugs ? avoidOpenBugs(bytes) : bytes);
  const parts: Uint8Array[] = [];
  const hello = enc.encode(JSON.stringify({ type: "hello", nick }) + "\n");
  const lines = 1 + rng.int(kind === "strict" ? 40 : 25);
  let expectErrors: string[] | undefined;
  if (kind === "strict") {
    // Only lines the server must reject; each one alone, so the expected answers add up.
    const body: Uint8Array[] = [];
    for (let i = 0; i < lines; i++) {
      const line = clean(concat([fuzzLine(rng, corpus, kind).map((b) => (b === 0x0a ? 0x20 : b)), enc.encode(rng.chance(0.2) ? "\r\n" : "\n")]));
      if (expectedErrors(line) !== null) body.push(line);
    }
    const tail = concat(body);
    expectErrors = expectedErrors(tail)!;
    parts.push(hello, tail, enc.encode('{"type":"ping","id":"fuzz-end"}\n'));
  } else {
    if (kind === "json" || kind === "stall") parts.push(hello);
    if (kind === "text") parts.push(enc.encode(rng.chance(0.8) ? `${nick}\r\n` : rng.pick(corpus.text) + "\n"));
    for (let i = 0; i < lines; i++) {
      parts.push(fuzzLine(rng, corpus, kind));
      const terminator = rng.pick(["\n", "\n", "\n", "\r\n", "", "\n\n"]);
      parts.push(enc.encode(terminator));
    }
    // Often the last frame is cut short: a peer that vanishes mid-frame.
    if (rng.chance(0.4)) parts.push(enc.encode(rng.pick(corpus.json).slice(0, 5 + rng.int(20))));
  }
  const bytes = clean(concat(parts));
  const cuts = rng.chance(0.1)
    ? Array.from({ length: Math.min(bytes.length, 60) }, (_, i) => i) // byte by byte, at the start
    : Array.from({ length: rng.int(12) }, () => rng.int(bytes.length + 1));
  const writes = chunkAt(bytes, cuts).filter((c) => c.length > 0).map(b64);
  return {
    kind,
    writes,
    gapMs: rng.chance(0.5) ? 0 : 1 + rng.int(4),
    end: kind === "strict" ? "open" : rng.pick(["fin", "reset", "open"] as const),
    ...(expectErrors ? { expectErrors } : {}),
  };
}

/**
 * An abuse connection's script: a hello with a look-alike of the sentinel's
 * nick (refused), its own hello, then attack writes, each sent whole (a burst
 * of 40 frames must arrive in one write).
 */
function makeAbuseConnection(rng: Rng, nick: string): FuzzConnection {
  const writes: Uint8Array[] = [enc.encode(JSON.stringify({ type: "hello", nick: lookalikeNick(rng, SENTINEL_NICK) }) + "\n")];
  writes.push(enc.encode(JSON.stringify({ type: "hello", nick }) + "\n"));
  for (let i = 0, n = 1 + rng.int(6); i < n; i++) writes.push(abuseWrite(rng, nick, SENTINEL_NICK));
  return { kind: "abuse", writes: writes.map(b64), gapMs: rng.int(3), end: rng.pick(["fin", "reset", "open"] as const) };
}

/** A batch: a mix of every kind of connection. */
export function makeBatch(rng: Rng, corpus: Corpus, batch: number, withOpenBugs = false): FuzzConnection[] {
  const count = 6 + rng.int(14);
  const kinds: FuzzConnection["kind"][] = ["json", "json", "json", "strict", "strict", "text", "text", "raw", "stall", "abuse"];
  return Array.from({ length: count }, (_, i) => makeConnection(rng, corpus, rng.pick(kinds), `f${batch}x${i}`, withOpenBugs));
}

// ---- Running a batch against a server ----------------------------------------

/** Plays one connection; resolves with what went wrong and the socket, which stays open when its script says so. */
async function play(port: number, script: FuzzConnection, index: number): Promise<{ problems: string[]; socket: net.Socket }> {
  const socket = net.connect({ port, host: "127.0.0.1" });
  socket.on("error", () => {});
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  const connected = await new Promise<boolean>((resolve) => {
    socket.once("connect", () => resolve(true));
    socket.once("error", () => resolve(false));
  });
  if (!connected) return { problems: [`connection ${index} (${script.kind}): could not connect`], socket };
  if (script.kind === "stall") socket.pause();
  for (const write of script.writes) {
    if (socket.destroyed) break;
    socket.write(Buffer.from(write, "base64"));
    if (script.gapMs > 0) await sleep(script.gapMs);
  }
  const problems: string[] = [];
  if (script.kind === "strict" && script.expectErrors) {
    problems.push(...(await checkStrict(received, closed, script.expectErrors, index)));
  }
  if (script.end === "reset") socket.resetAndDestroy();
  if (script.end === "fin") {
    socket.end();
    await Promise.race([closed, sleep(500)]);
  }
  problems.push(...outputProblems(script, received).map((p) => `connection ${index} (${script.kind}): ${p}`));
  return { problems, socket };
}

/** What is wrong in what a connection received so far, by the dialect its first byte chose (see fuzz_abuse.ts). */
function outputProblems(script: FuzzConnection, received: Buffer[]): string[] {
  const first = script.writes.map((w) => Buffer.from(w, "base64")).flatMap((b) => Array.from(b)).find((b) => ![0x20, 0x09, 0x0d, 0x0a].includes(b));
  const text = Buffer.concat(received).toString("utf8");
  if (first !== 0x7b) return textOutputProblems(text);
  const problems: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      problems.push(...frameProblems(JSON.parse(line), SENTINEL_NICK));
    } catch {
      // A cut last line; the strict checks judge JSON-ness.
    }
  }
  return problems;
}

/** Waits for the strict connection's closing pong and compares the errors it got with the expected ones. */
async function checkStrict(received: Buffer[], closed: Promise<void>, expected: string[], index: number): Promise<string[]> {
  const frames = () => {
    const text = Buffer.concat(received).toString("utf8");
    return text.split("\n").filter((l) => l !== "").map((l) => {
      try {
        return JSON.parse(l) as Frame;
      } catch {
        return { type: "<not json>", line: l } as Frame;
      }
    });
  };
  const deadline = Date.now() + 15_000;
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  while (!frames().some((f) => f.id === "fuzz-end")) {
    if (isClosed || Date.now() > deadline) {
      return [`strict connection ${index}: no pong for its last ping (${isClosed ? "closed" : "timeout"}); got ${describeFrames(frames())}`];
    }
    await sleep(10);
  }
  const all = frames();
  const notJson = all.filter((f) => f.type === "<not json>");
  const errors = all.filter((f) => f.type === "error").map((f) => f.code);
  const problems: string[] = [];
  if (notJson.length) problems.push(`strict connection ${index}: non-JSON line from the server: ${JSON.stringify(notJson[0].line).slice(0, 200)}`);
  if (JSON.stringify(errors) !== JSON.stringify(expected)) {
    problems.push(`strict connection ${index}: expected errors ${JSON.stringify(expected)}, got ${JSON.stringify(errors)}`);
  }
  return problems;
}

function describeFrames(frames: Frame[]): string {
  return frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 120)).join(" | ") || "nothing";
}

/** The sentinel's nick: the victim the abuse connections try to look like. */
const SENTINEL_NICK = "sentinel";

/**
 * A client that stays registered in the lobby for a whole run: it must never
 * be dropped, every line it gets must be JSON, and lobby seqs must rise by one.
 */
export class Sentinel {
  #lastSeq = -1;
  #pinger: ReturnType<typeof setInterval> | undefined;
  private constructor(readonly client: TestClient) {}

  static async start(port: number, nick = SENTINEL_NICK): Promise<Sentinel> {
    const client = await TestClient.register(port, nick);
    const sentinel = new Sentinel(client);
    // Any frame counts as activity; keeps the sentinel clear of the heartbeat timeout in long runs.
    sentinel.#pinger = setInterval(() => client.send({ type: "ping" }), 5000);
    return sentinel;
  }

  /** Checks and drops what arrived since the last check. */
  check(): string[] {
    const problems: string[] = [];
    if (this.client.ended) problems.push("the sentinel client was disconnected");
    for (const line of this.client.lines.splice(0)) {
      let frame: Frame;
      try {
        frame = JSON.parse(line);
      } catch {
        problems.push(`sentinel got a non-JSON line: ${JSON.stringify(line).slice(0, 200)}`);
        continue;
      }
      problems.push(...frameProblems(frame, SENTINEL_NICK));
      if (frame.type !== "msg" || frame.room !== "lobby") continue;
      if (this.#lastSeq >= 0 && frame.seq !== this.#lastSeq + 1) {
        problems.push(`sentinel saw lobby seq ${frame.seq} after ${this.#lastSeq}`);
      }
      this.#lastSeq = frame.seq;
    }
    return problems;
  }

  stop(): void {
    clearInterval(this.#pinger);
    this.client.destroy();
  }
}

let probeCount = 0;

/** A fresh client must register, chat and get answers; afterwards no fuzz connection may still be a member anywhere. */
async function probe(port: number, expectedInLobby: number): Promise<string[]> {
  const nick = `probe${++probeCount}`;
  let client: TestClient | undefined;
  try {
    client = await TestClient.register(port, nick, { defaultRoom: "lobby" });
    await client.request({ type: "join", room: "fuzzprobe" }, 5000);
    const ack = await client.request({ type: "msg", room: "fuzzprobe", text: "probe" }, 5000);
    if (ack.type !== "msg") return [`probe: msg answered with ${JSON.stringify(ack)}`];
    const pong = await client.request({ type: "ping", t: nick }, 5000);
    if (pong.t !== nick) return [`probe: ping answered with ${JSON.stringify(pong)}`];
    // Every fuzz connection is closed by now; their memberships must go with them.
    const deadline = Date.now() + 5000;
    for (;;) {
      const rooms = (await client.request({ type: "rooms" }, 5000)).rooms as { name: string; members: number }[];
      const leftover = rooms.filter((r) =>
        r.name === "lobby" ? r.members !== expectedInLobby : r.name === "fuzzprobe" ? r.members !== 1 : r.members !== 0
      );
      if (leftover.length === 0) return [];
      if (Date.now() > deadline) return [`members left behind after the batch: ${JSON.stringify(leftover.slice(0, 5))}`];
      await sleep(50);
    }
  } catch (error) {
    return [`probe ${nick} failed: ${(error as Error).message}`];
  } finally {
    client?.destroy();
  }
}

/** What in `stderr` is not a JSON log line below ERROR (a stack trace, an error record). */
export function logProblems(stderr: string): string[] {
  const problems: string[] = [];
  for (const line of stderr.split("\n")) {
    if (line.trim() === "") continue;
    let record: { level?: string };
    try {
      record = JSON.parse(line);
    } catch {
      problems.push(`server printed a non-log line: ${line.slice(0, 300)}`);
      continue;
    }
    if (record.level === "ERROR" || record.level === "FATAL") problems.push(`server logged: ${line.slice(0, 300)}`);
  }
  return problems;
}

/** A server under fuzz, with what was checked of it so far. */
export class FuzzTarget {
  #logOffset = 0;
  readonly baselineRss: number;
  peakRss: number;
  private constructor(readonly server: ChatServerProcess, readonly sentinel: Sentinel, readonly dataDir: string) {
    this.baselineRss = this.peakRss = server.rssBytes();
  }

  /** Starts a server on a fresh data directory of its own: fuzzed input goes through the SQLite store too. */
  static async start(runtime: RuntimeName): Promise<FuzzTarget> {
    const dataDir = mkdtempSync(join(tmpdir(), "tcpchat-fuzz-"));
    const server = await startChatServer(runtime, [...FUZZ_FLAGS, "--data-dir", dataDir]);
    return new FuzzTarget(server, await Sentinel.start(server.port), dataDir);
  }

  /** Plays `connections` at once, then checks the server. Returns what went wrong. */
  async runBatch(connections: FuzzConnection[], maxRssGrowthBytes: number): Promise<string[]> {
    const started = Date.now();
    const played = await Promise.all(connections.map((c, i) => play(this.server.port, c, i)));
    for (const { socket } of played) socket.destroy();
    const problems = played.flatMap((p) => p.problems);
    if (!this.server.alive()) return [...problems, `the server exited (code ${await this.server.exited})`];
    problems.push(...(await probe(this.server.port, 2)));
    problems.push(...this.sentinel.check());
    const stderr = this.server.stderr();
    problems.push(...logProblems(stderr.slice(this.#logOffset)));
    problems.push(...logFloodProblems(stderr.slice(this.#logOffset), (Date.now() - started) / 1000));
    this.#logOffset = stderr.length;
    if (this.server.alive()) {
      const rss = this.server.rssBytes();
      this.peakRss = Math.max(this.peakRss, rss);
      if (rss - this.baselineRss > maxRssGrowthBytes) {
        problems.push(`server RSS grew from ${mib(this.baselineRss)} to ${mib(rss)} MiB`);
      }
    } else {
      problems.push(`the server exited (code ${await this.server.exited})`);
    }
    return problems;
  }

  async stop(): Promise<void> {
    this.sentinel.stop();
    await this.server.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Reads every saved regression case. */
export function loadRegressions(dir = REGRESSIONS_DIR): { file: string; fuzzCase: FuzzCase }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, fuzzCase: JSON.parse(readFileSync(join(dir, file), "utf8")) as FuzzCase }));
}

/** Options of a fuzz run. */
export interface FuzzOptions {
  runtime: RuntimeName;
  seconds?: number;
  iterations?: number;
  seed: number;
  /** Where failing batches are saved; null to keep them only in the result. */
  saveDir: string | null;
  maxRssGrowthMiB: number;
  /** Stop after this many failing batches. */
  maxFailures: number;
  /** Also generate inputs that trigger known open bugs (see {@linkcode avoidOpenBugs}). */
  withOpenBugs?: boolean;
  log?: (line: string) => void;
}

/** What a run did. */
export interface FuzzResult {
  batches: number;
  connections: number;
  bytes: number;
  failures: FuzzCase[];
  baselineRssBytes: number;
  peakRssBytes: number;
  seconds: number;
}

/** Runs batches until the time or iteration budget is spent. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const corpus = loadCorpus();
  const started = Date.now();
  const deadline = options.seconds === undefined ? Infinity : started + options.seconds * 1000;
  const maxBatches = options.iterations ?? Infinity;
  let target = await FuzzTarget.start(options.runtime);
  const baselineRssBytes = target.baselineRss;
  let peakRssBytes = target.peakRss;
  const result = { batches: 0, connections: 0, bytes: 0, failures: [] as FuzzCase[] };
  let nextReport = started + 30_000;
  try {
    while (result.batches < maxBatches && Date.now() < deadline && result.failures.length < options.maxFailures) {
      const batch = result.batches++;
      const connections = makeBatch(new Rng(options.seed * 1_000_003 + batch), corpus, batch, options.withOpenBugs);
      result.connections += connections.length;
      result.bytes += connections.reduce((n, c) => n + c.writes.reduce((m, w) => m + Buffer.from(w, "base64").length, 0), 0);
      const problems = await target.runBatch(connections, options.maxRssGrowthMiB * 1024 * 1024);
      peakRssBytes = Math.max(peakRssBytes, target.peakRss);
      if (Date.now() >= nextReport) {
        nextReport += 30_000;
        options.log?.(`${((Date.now() - started) / 1000).toFixed(0)} s: ${result.batches} batches, ${result.connections} connections, ` +
          `${mib(result.bytes)} MiB sent, server RSS ${mib(target.server.alive() ? target.server.rssBytes() : 0)} MiB, ${result.failures.length} failing batches`);
      }
      if (problems.length === 0) continue;
      const fuzzCase: FuzzCase = {
        description: `found by the fuzzer: ${problems[0]}`,
        found: { runtime: options.runtime, seed: options.seed, batch, at: new Date().toISOString(), failure: problems.join("\n") },
        connections,
      };
      result.failures.push(fuzzCase);
      const saved = options.saveDir ? saveCase(options.saveDir, fuzzCase) : "(not saved)";
      options.log?.(`batch ${batch} FAILED (${saved}):\n  ${problems.join("\n  ")}`);
      // Start afresh so the next batches are judged on their own.
      await target.stop();
      target = await FuzzTarget.start(options.runtime);
    }
  } finally {
    await target.stop();
  }
  return { ...result, baselineRssBytes, peakRssBytes, seconds: (Date.now() - started) / 1000 };
}

function saveCase(dir: string, fuzzCase: FuzzCase): string {
  mkdirSync(dir, { recursive: true });
  const { runtime, seed, batch } = fuzzCase.found!;
  const file = join(dir, `${new Date().toISOString().slice(0, 10)}-${runtime}-s${seed}-b${batch}.json`);
  writeFileSync(file, JSON.stringify(fuzzCase, null, 1) + "\n");
  return file;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string" },
      iterations: { type: "string" },
      runtime: { type: "string", default: "bun" },
      seed: { type: "string" },
      out: { type: "string", default: REGRESSIONS_DIR },
      "max-rss-growth-mib": { type: "string", default: "256" },
      "max-failures": { type: "string", default: "5" },
      "with-open-bugs": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "Usage: npm run fuzz -- [--seconds N | --iterations N] [--runtime bun|deno|node] [--seed N] [--out DIR]\n" +
        "                       [--max-rss-growth-mib N] [--max-failures N] [--with-open-bugs]\n" +
        "Fuzzes a real server on 127.0.0.1; failing batches are saved to --out (tests/fuzz_regressions).",
    );
    return 0;
  }
  const runtime = values.runtime as RuntimeName;
  if (!(ALL_RUNTIMES as readonly string[]).includes(runtime)) throw new Error(`--runtime must be one of ${ALL_RUNTIMES.join(", ")}`);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  const seconds = values.seconds === undefined && values.iterations === undefined ? 60 : Number(values.seconds ?? Infinity);
  console.log(`fuzzing ${runtime}, seed ${seed}, ${values.iterations ? `${values.iterations} batches` : `${seconds} s`}`);
  const result = await runFuzz({
    runtime,
    seed,
    seconds: Number.isFinite(seconds) ? seconds : undefined,
    iterations: values.iterations === undefined ? undefined : Number(values.iterations),
    saveDir: values.out!,
    maxRssGrowthMiB: Number(values["max-rss-growth-mib"]),
    maxFailures: Number(values["max-failures"]),
    withOpenBugs: values["with-open-bugs"],
    log: (line) => console.log(line),
  });
  console.log(
    `${result.batches} batches, ${result.connections} connections, ${mib(result.bytes)} MiB sent in ${result.seconds.toFixed(1)} s; ` +
      `server RSS ${mib(result.baselineRssBytes)} -> peak ${mib(result.peakRssBytes)} MiB; ${result.failures.length} failing batches`,
  );
  return result.failures.length === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main());
