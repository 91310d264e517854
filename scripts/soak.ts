/**
 * Soak test: thousands of clients on loopback join rooms, chat, leave, vanish
 * (quit, FIN, RST, half a frame, a stalled reader) and come back with `join
 * since` for a set time. Then it proves that:
 *
 * - every client that stayed connected got every message of its rooms, in
 *   seq order, without gaps or duplicates, as the log of acknowledged sends
 *   says (one consensus per room and seq; every text was really sent, by its
 *   `from`);
 * - every client that came back got exactly what it missed (or what history
 *   still kept);
 * - nothing is left behind: no member in any room, one `disconnect` log line
 *   per connection, and, where the server has `/metrics`, no connection,
 *   registered user or queued byte;
 * - the server's RSS comes back near its baseline: the run is cut into waves
 *   that each end with everyone gone, and after every wave RSS must be back
 *   near where the first one left it (a leak grows from wave to wave);
 * - with `--restarts N`, the server runs on a data directory and is killed
 *   (SIGKILL) and started again on it N times per wave while clients churn:
 *   clients reconnect and resume with `since` (exactly what they missed),
 *   and every acknowledged message is still in its room's history, under
 *   the seq its ack carried;
 * - with `--cluster N`, the same holds of N nodes sharing a redis-server
 *   the soak starts on a free port (soak_cluster.ts): clients are spread
 *   over the nodes and come back through another node each time, so every
 *   resume crosses nodes; each node logs one `disconnect` per connection
 *   it took and ends with empty gauges. With `--restarts`, a node (in
 *   turn) is killed with SIGKILL and started again on its port; its users
 *   come back through the next node once the dead node's lease let go of
 *   their nicks.
 *
 * ```sh
 * npm run soak -- --seconds 300 --clients 2000 --waves 3 --runtime bun
 * npm run soak -- --seconds 120 --clients 500 --restarts 3
 * npm run soak -- --seconds 60 --clients 1000 --abuse
 * npm run soak -- --seconds 120 --clients 1000 --cluster 3 --restarts 2
 * ```
 *
 * With `--abuse`, hostile clients play issue 17's attacks during every wave
 * (see `soak_abuse.ts`) while all of the above is checked on the honest
 * ones, and the honest clients' ping p99 must stay under 2 s.
 *
 * Only loopback is used (127.0.0.1; with `--abuse` also 127.0.0.2-7 and 127.1.x.y); the run is
 * bounded by `--seconds`, and stops by itself.
 *
 * @module
 */
import * as net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SETTING_SPECS } from "../lib/config/settings.ts";
import type { Frame } from "../tests/support/chat_client.ts";
import { type ChatServerProcess, startChatServer } from "../tests/support/chat_server.ts";
import { ALL_RUNTIMES, type RuntimeName } from "../tests/support/runtimes.ts";
import { Rng } from "./fuzz.ts";
import { logFloodProblems } from "./fuzz_abuse.ts";
import { abuseWave, type AbuseCounts } from "./soak_abuse.ts";
import { startSoakCluster } from "./soak_cluster.ts";

const HISTORY = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** One JSON-dialect connection: frames dispatched as they come, requests matched by id. */
export class Wire {
  #buffer = "";
  #nextId = 0;
  readonly #pending = new Map<string, { resolve: (f: Frame) => void; timer: ReturnType<typeof setTimeout> }>();
  /** Every frame, answers included. */
  onFrame: (frame: Frame) => void = () => {};
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding("utf8");
    socket.on("error", () => {});
    socket.on("data", (text: string) => {
      this.#buffer += text;
      let nl: number;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        this.#dispatch(line);
      }
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.isClosed = true;
        for (const [id, p] of this.#pending) {
          clearTimeout(p.timer);
          p.resolve({ type: "closed", id });
        }
        this.#pending.clear();
        resolve();
      })
    );
  }

  /** Connects to 127.0.0.1, from `localAddress` when given (another loopback address: another "host"). */
  static open(port: number, localAddress?: string): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1", localAddress });
      socket.once("connect", () => resolve(new Wire(socket)));
      socket.once("error", reject);
    });
  }

  #dispatch(line: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(line);
    } catch {
      frame = { type: "<not json>", line };
    }
    this.onFrame(frame);
    const pending = frame.id === undefined ? undefined : this.#pending.get(frame.id);
    if (pending) {
      this.#pending.delete(frame.id);
      clearTimeout(pending.timer);
      pending.resolve(frame);
    }
  }

  send(frame: Frame | string): void {
    if (!this.isClosed) this.socket.write(typeof frame === "string" ? frame : JSON.stringify(frame) + "\n");
  }

  /** Sends with an id; resolves with the answer, `{type:"closed"}`, or `{type:"timeout"}`. */
  request(frame: Frame, timeoutMs = 15_000): Promise<Frame> {
    const id = `q${++this.#nextId}`;
    return new Promise((resolve) => {
      if (this.isClosed) return resolve({ type: "closed", id });
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ type: "timeout", id, request: frame.type });
      }, timeoutMs);
      this.#pending.set(id, { resolve, timer });
      this.send({ ...frame, id });
    });
  }
}

/** Once a connection was told `rate_limited`, the gap its later {@linkcode patiently} requests keep (under the default 5/s). */
const PACE_MS = 250;
/** When each paced connection may send its next request. */
const pacedUntil = new WeakMap<Wire, number>();

/**
 * A request, sent again after `retry_after_ms` while the answer is
 * `rate_limited` (joins and history pages spend tokens; an auditor or a
 * resumer paging many rooms runs out). From the first refusal on, the
 * connection paces itself under the rate, as a polite client does: retrying
 * at once each time would pile up strikes until the server closes it for
 * flooding.
 */
async function patiently(wire: Wire, frame: Frame): Promise<Frame> {
  for (;;) {
    const at = pacedUntil.get(wire);
    if (at !== undefined && at > Date.now()) await sleep(at - Date.now());
    const answer = await wire.request(frame);
    const refused = answer.type === "error" && answer.code === "rate_limited";
    if (refused || at !== undefined) pacedUntil.set(wire, Date.now() + Math.max(PACE_MS, refused ? Number(answer.retry_after_ms ?? 0) : 0));
    if (!refused) return answer;
  }
}

/**
 * A `join` snapshot's history and, when it says `more`, the rest up to its
 * seq, paged with `history` `after` (later messages come live). Undefined
 * when the connection closed or a page was refused (told to `problem`).
 */
async function fullHistory(wire: Wire, snapshot: Frame, since: number, problem: (text: string) => void): Promise<Frame[] | undefined> {
  const history = [...(snapshot.history as Frame[])];
  const room = snapshot.room as string;
  for (let more = snapshot.more === true; more;) {
    const after = (history.at(-1)?.seq as number | undefined) ?? since;
    if (after >= snapshot.seq) break;
    const page = await patiently(wire, { type: "history", room, after, limit: 100 });
    if (page.type === "closed") return undefined;
    if (page.type !== "history") {
      problem(`history ${room} after ${after} answered with ${JSON.stringify(page).slice(0, 200)}`);
      return undefined;
    }
    const msgs = (page.msgs as Frame[]).filter((m) => m.seq <= snapshot.seq);
    history.push(...msgs);
    more = page.more === true && msgs.length > 0;
  }
  return history;
}

/** What everyone saw of one room: seq -> "from\0text", from whoever saw it first, and the acks. */
class RoomLog {
  readonly bySeq = new Map<number, string>();
}

/** Shared bookkeeping of a soak run. */
class Ledger {
  readonly rooms = new Map<string, RoomLog>();
  /** Every text sent, with its sender's nick: a received message must be one of these. */
  readonly sent = new Map<string, string>();
  /** Acknowledged messages per room: seq -> "from\0text". */
  readonly acks = new Map<string, Map<number, string>>();
  /** Connections opened per port since the server (or node) on it started: its disconnect lines must match. */
  readonly connectionsAt = new Map<number, number>();
  readonly problems: string[] = [];
  /** Round trips of the steady clients' pings, in milliseconds. */
  readonly pingsMs: number[] = [];
  readonly counts = {
    connections: 0,
    sent: 0,
    acked: 0,
    delivered: 0,
    resumes: 0,
    caughtUp: 0,
    lostToHistory: 0,
    rateLimited: 0,
    nickRetries: 0,
    departures: {} as Record<string, number>,
  };

  /** Counts a connection opened to `port`. */
  connected(port: number): void {
    this.counts.connections++;
    this.connectionsAt.set(port, (this.connectionsAt.get(port) ?? 0) + 1);
  }

  problem(text: string): void {
    if (this.problems.length < 200) this.problems.push(text);
  }

  /** Checks one message against what others saw at its seq and against what was sent. */
  see(msg: Frame, who: string): void {
    const log = this.rooms.get(msg.room);
    if (!log) return this.problem(`${who}: message in unknown room ${msg.room}`);
    const entry = `${msg.from}\u0000${msg.text}`;
    const before = log.bySeq.get(msg.seq);
    if (before === undefined) log.bySeq.set(msg.seq, entry);
    else if (before !== entry) this.problem(`${who}: ${msg.room}#${msg.seq} is ${JSON.stringify(entry)}, others saw ${JSON.stringify(before)}`);
    const sender = this.sent.get(msg.text);
    if (sender !== msg.from) this.problem(`${who}: ${msg.room}#${msg.seq} ${JSON.stringify(msg.text)} from ${msg.from} was never sent by it`);
  }

  /** Records an acknowledged message (it must outlive any restart). */
  acked(msg: Frame): void {
    let room = this.acks.get(msg.room);
    if (!room) this.acks.set(msg.room, room = new Map());
    room.set(msg.seq, `${msg.from}\u0000${msg.text}`);
  }

  depart(how: string): void {
    this.counts.departures[how] = (this.counts.departures[how] ?? 0) + 1;
  }
}

/** A client's place in a room: the last seq it saw (from the snapshot on, every seq must arrive). */
interface Place {
  lastSeq: number;
}

/** One simulated user: a steady one stays to the end, a churner comes and goes. */
class SoakUser {
  readonly nick: string;
  readonly places = new Map<string, Place>();
  wire: Wire | null = null;
  /** The loopback address it connects from (with --abuse every user has its own, as on the internet). */
  localAddress: string | undefined = undefined;
  /** How many times it moved on to another node (a cluster's port for it is picked from this). */
  hops = 0;
  /** Rooms being joined, with the `since` asked for. */
  readonly #joining = new Map<string, number | undefined>();
  #counter = 0;
  #generation = 0;

  constructor(
    readonly index: number,
    readonly steady: boolean,
    readonly rooms: string[],
    readonly ledger: Ledger,
    readonly rng: Rng,
    /** Whether the server may be killed and restarted under it: refused connections and lost ones are retried. */
    readonly restarts = false,
  ) {
    this.nick = `${steady ? "st" : "ch"}${index}`;
  }

  /** Whether it had a connection that the server side lost (a restart). */
  get lostConnection(): boolean {
    return this.wire !== null && this.wire.isClosed;
  }

  /**
   * Connects, registers (waiting out its previous session if the server still holds it) and joins its rooms.
   * `portOf` names the port to try, from {@linkcode hops} (a refused connection moves on a hop).
   */
  async connect(portOf: (hops: number) => number): Promise<boolean> {
    this.#generation++;
    this.wire = null;
    for (let attempt = 0; attempt < 50; attempt++) {
      let wire: Wire;
      const port = portOf(this.hops);
      try {
        wire = await Wire.open(port, this.localAddress);
      } catch (error) {
        if (this.restarts && attempt < 49) {
          // The server (or this node) is being restarted: come back shortly, through the next node if there are several.
          this.hops++;
          await sleep(100 + this.rng.int(200));
          continue;
        }
        this.ledger.problem(`${this.nick}: cannot connect: ${(error as Error).message}`);
        return false;
      }
      this.ledger.connected(port);
      wire.onFrame = (frame) => this.#onFrame(frame);
      const welcome = await wire.request({ type: "hello", nick: this.nick });
      if (welcome.type === "welcome") {
        this.wire = wire;
        let joined = true;
        for (const room of this.rooms) {
          if (await this.#join(room)) continue;
          wire.socket.destroy();
          this.wire = null;
          joined = false;
          break;
        }
        if (joined) return true;
        if (!this.restarts) return false;
        continue;
      }
      wire.socket.destroy();
      if (this.restarts && welcome.type === "closed") continue;
      if (welcome.code !== "nick_taken") {
        this.ledger.problem(`${this.nick}: hello answered with ${JSON.stringify(welcome)}`);
        return false;
      }
      this.ledger.counts.nickRetries++;
      await sleep(50 + attempt * 20);
    }
    this.ledger.problem(`${this.nick}: nick still taken after 50 tries`);
    return false;
  }

  async #join(room: string): Promise<boolean> {
    const since = this.places.get(room)?.lastSeq;
    this.#joining.set(room, since);
    const wire = this.wire!;
    const snapshot = await wire.request(since === undefined ? { type: "join", room } : { type: "join", room, since });
    if (snapshot.type === "room" && snapshot.more === true && since !== undefined) return await this.#pageRest(wire, snapshot, since);
    if (snapshot.type === "room" || snapshot.type === "closed") return snapshot.type === "room";
    this.ledger.problem(`${this.nick}: join ${room} answered with ${JSON.stringify(snapshot)}`);
    return false;
  }

  /**
   * A snapshot, handled as it arrives (messages right behind it in the same read follow from
   * its seq): the history must be exactly what was missed, or what history still keeps of it.
   * A snapshot with `more` (a cluster node that just started following the room sends its
   * older history by `history` paging) is checked once {@linkcode #pageRest} has the rest.
   */
  #onSnapshot(snapshot: Frame): void {
    const since = this.#joining.get(snapshot.room);
    this.#joining.delete(snapshot.room);
    const history = snapshot.history as Frame[];
    for (const m of history) this.ledger.see(m, this.nick);
    if (since !== undefined && snapshot.more !== true) this.#checkResume(snapshot.room, since, snapshot.seq, history);
    this.places.set(snapshot.room, { lastSeq: snapshot.seq });
  }

  /** A resume's history, all of it: exactly the seqs after `since` up to the snapshot's `seq` that history still keeps. */
  #checkResume(room: string, since: number, seq: number, history: Frame[]): void {
    this.ledger.counts.resumes++;
    const seqs = history.map((m) => m.seq);
    const first = Math.max(since + 1, seq - HISTORY + 1);
    const expected = Array.from({ length: Math.max(0, seq - first + 1) }, (_, i) => first + i);
    if (JSON.stringify(seqs) !== JSON.stringify(expected)) {
      this.ledger.problem(`${this.nick}: join ${room} since ${since} at seq ${seq} got history ${seqs.join(",")}`);
    }
    this.ledger.counts.caughtUp += seqs.length;
    this.ledger.counts.lostToHistory += Math.max(0, first - since - 1);
  }

  /** Pages the rest of a resume's history (`more`), then checks it. */
  async #pageRest(wire: Wire, snapshot: Frame, since: number): Promise<boolean> {
    const history = await fullHistory(wire, snapshot, since, (text) => this.ledger.problem(`${this.nick}: ${text}`));
    if (!history) return false;
    for (const m of history.slice((snapshot.history as Frame[]).length)) this.ledger.see(m, this.nick);
    this.#checkResume(snapshot.room, since, snapshot.seq, history);
    return true;
  }

  #onFrame(frame: Frame): void {
    if (frame.type === "msg") {
      this.ledger.counts.delivered++;
      const place = this.places.get(frame.room);
      if (!place) return this.ledger.problem(`${this.nick}: message for ${frame.room} before its snapshot`);
      if (frame.seq !== place.lastSeq + 1) {
        this.ledger.problem(`${this.nick}: ${frame.room} seq ${frame.seq} after ${place.lastSeq}`);
      }
      place.lastSeq = Math.max(place.lastSeq, frame.seq);
      this.ledger.see(frame, this.nick);
    } else if (frame.type === "room") {
      this.#onSnapshot(frame);
    } else if (frame.type === "error" && frame.code === "rate_limited") {
      this.ledger.counts.rateLimited++;
    } else if (frame.type === "ping") {
      this.wire?.send({ type: "pong", t: frame.t });
    } else if (frame.type === "<not json>" || (frame.type === "bye" && frame.reason !== "quit")) {
      this.ledger.problem(`${this.nick}: unexpected ${JSON.stringify(frame).slice(0, 200)}`);
    }
  }

  /** Sends one message to one of its rooms; the ack is logged. */
  async chat(): Promise<void> {
    const wire = this.wire;
    if (!wire || this.rooms.length === 0) return;
    const room = this.rng.pick(this.rooms);
    const text = `${this.nick}/${this.#generation}/${++this.#counter}`;
    this.ledger.sent.set(text, this.nick);
    this.ledger.counts.sent++;
    const ack = await wire.request({ type: "msg", room, text });
    if (ack.type === "msg") {
      this.ledger.counts.acked++;
      this.ledger.see(ack, this.nick);
      this.ledger.acked(ack);
    } else if (ack.type !== "closed" && !(ack.type === "error" && ack.code === "rate_limited")) {
      this.ledger.problem(`${this.nick}: msg answered with ${JSON.stringify(ack)}`);
    }
  }

  /** Pings the server now and then until `endAt`, logging each round trip. */
  async pingUntil(endAt: number): Promise<void> {
    while (Date.now() < endAt) {
      await sleep(Math.min(1000 + this.rng.int(1000), Math.max(0, endAt - Date.now())));
      const wire = this.wire;
      if (!wire || wire.isClosed || Date.now() >= endAt) continue;
      const sent = performance.now();
      const pong = await wire.request({ type: "ping" });
      if (pong.type === "pong") this.ledger.pingsMs.push(performance.now() - sent);
    }
  }

  /** Goes away in one of the ways real clients do. */
  async leave(how: string): Promise<void> {
    const wire = this.wire;
    if (!wire) return;
    this.ledger.depart(how);
    switch (how) {
      case "quit":
        await wire.request({ type: "quit" }, 5000);
        break;
      case "leave+quit":
        for (const room of this.rooms) await wire.request({ type: "leave", room }, 5000);
        this.places.clear(); // it left: next time it joins afresh
        await wire.request({ type: "quit" }, 5000);
        break;
      case "fin":
        wire.socket.end();
        break;
      case "reset":
        wire.socket.resetAndDestroy();
        break;
      case "half-frame":
        wire.send('{"type":"msg","room":"' + this.rooms[0] + '","text":"never');
        await sleep(10);
        wire.socket.resetAndDestroy();
        break;
      case "stall":
        // Stops reading while the rooms go on, then vanishes.
        wire.socket.pause();
        await sleep(300 + this.rng.int(700));
        wire.socket.resetAndDestroy();
        break;
    }
    await Promise.race([wire.closed, sleep(3000)]);
    wire.socket.destroy();
    this.wire = null;
  }
}

const DEPARTURES = ["quit", "leave+quit", "fin", "reset", "half-frame", "stall"];

/** Options of a soak run. */
export interface SoakOptions {
  runtime: RuntimeName;
  seconds: number;
  clients: number;
  /** Messages per second, all clients together. */
  msgRate: number;
  /** Equal parts of `seconds`, each ending with everyone gone (default 2). */
  waves?: number;
  /** SIGKILL restarts per wave, on a data directory (default 0: memory only, no restarts). */
  restarts?: number;
  /** Hostile clients play the abuse table during every wave (scripts/soak_abuse.ts); not with restarts or a cluster. */
  abuse?: boolean;
  /** Nodes of a cluster over a redis-server of the run's own (soak_cluster.ts); 0 or absent: one server. */
  cluster?: number;
  seed: number;
  log?: (line: string) => void;
}

/** What a soak run did and found. */
export interface SoakReport {
  options: SoakOptions;
  rooms: number;
  /** Servers the run used: 1, or the nodes of the cluster. */
  nodes: number;
  counts: Ledger["counts"];
  disconnectLines: number;
  /** Before any client, the highest seen, and after each wave once everyone left (summed over a cluster's nodes). */
  rss: { coldMiB: number; peakMiB: number; afterWaveMiB: number[] };
  metrics: Record<string, number> | null;
  /** The steady clients' ping round trips, in milliseconds. */
  pings: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** With `abuse`: what the attackers did and got through, per wave. */
  abuse?: AbuseCounts[];
  problems: string[];
  seconds: number;
}

/** The server's `disconnect` log lines (one per closed connection), with their connection ids. */
export function disconnectRecords(stderr: string): { conn: number; nick: string; reason: string }[] {
  return stderr.split("\n").flatMap((line) => {
    if (!line.includes('"disconnect ')) return [];
    try {
      const record = JSON.parse(line);
      return String(record.message).startsWith("disconnect") ? [record.properties] : [];
    } catch {
      return [];
    }
  });
}

/** Reads the gauges and counters of `/metrics` (summing label sets per name). */
async function scrapeMetrics(address: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (match) out[match[1]] = (out[match[1]] ?? 0) + Number(match[2]);
  }
  return out;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** The run's setting: the server, its users, and where the counts go. */
interface SoakContext {
  /** The server, or a cluster's first node (the observer's and the auditor's). */
  server: ChatServerProcess;
  /** Every server: the one, or each node of a cluster. */
  nodes: ChatServerProcess[];
  /** The `/metrics` address of each of `nodes`. */
  metricsAddresses: (string | null)[];
  /** The port `user` connects to after `hops` moves. */
  portOf: (user: SoakUser, hops: number) => number;
  ledger: Ledger;
  users: SoakUser[];
  rooms: string[];
  /** A client's pause between two messages. */
  gap: (rng: Rng) => number;
  /** SIGKILL restarts per wave (on a data directory); 0 for none. */
  restarts: number;
}

/**
 * Every acknowledged message that history still keeps is there under its
 * seq, and no room is behind its newest ack: nothing acked was lost to a restart.
 */
async function checkAcksKept({ server, ledger }: SoakContext, finalSeq: Map<string, number>): Promise<void> {
  const auditor = await Wire.open(server.port);
  ledger.connected(server.port);
  await auditor.request({ type: "hello", nick: "auditor" });
  for (const [room, acks] of ledger.acks) {
    const last = finalSeq.get(room) ?? 0;
    const newest = Math.max(...acks.keys());
    if (newest > last) ledger.problem(`${room}: acked seq ${newest}, but the room is at ${last} after the restarts`);
    const since = Math.max(0, last - HISTORY);
    const snap = await patiently(auditor, { type: "join", room, since });
    const history = snap.type === "room" ? await fullHistory(auditor, snap, since, (text) => ledger.problem(`auditor: ${text}`)) : [];
    const kept = new Map((history ?? []).map((m) => [m.seq as number, `${m.from}\u0000${m.text}`]));
    let lost = 0;
    for (const [seq, entry] of acks) if (seq > last - HISTORY && kept.get(seq) !== entry) lost++;
    if (lost > 0) ledger.problem(`${room}: ${lost} acked messages missing or changed after the restarts`);
    await patiently(auditor, { type: "leave", room });
  }
  await auditor.request({ type: "quit" });
  auditor.socket.destroy();
}

/**
 * Kills the server (a cluster's nodes in turn, from `first`) with SIGKILL
 * `count` times, evenly over `spanMs`, starting it again on the same port
 * (and data directory, or cluster).
 */
async function restartDuring(
  ctx: SoakContext,
  count: number,
  spanMs: number,
  start: (port: number) => Promise<ChatServerProcess>,
  metricsOf: (server: ChatServerProcess) => Promise<string | null>,
  log: (line: string) => void,
  first = 0,
): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await sleep(spanMs / (count + 1));
    const k = (first + i - 1) % ctx.nodes.length;
    const port = ctx.nodes[k].port;
    ctx.nodes[k].signal("SIGKILL");
    await ctx.nodes[k].exited;
    // Its disconnect lines died with it.
    ctx.ledger.connectionsAt.set(port, 0);
    ctx.nodes[k] = await start(port);
    if (k === 0) ctx.server = ctx.nodes[0];
    ctx.metricsAddresses[k] = await metricsOf(ctx.nodes[k]);
    log(`restart ${i}: ${ctx.nodes.length > 1 ? `node ${k + 1}` : "the server"} killed with SIGKILL and started again on port ${port}`);
  }
}

/** One wave: everyone arrives (spread over `rampMs`), steady users stay and chat, churners come and go, until `endAt`. */
async function wave({ users, gap, portOf, nodes }: SoakContext, endAt: number, rampMs: number): Promise<void> {
  await Promise.all(users.map(async (user) => {
    const port = (hops: number) => portOf(user, hops);
    await sleep(user.rng.int(rampMs));
    if (user.steady) {
      if (!(await user.connect(port))) return;
      // Every fourth steady client measures round trips meanwhile.
      const pinging = user.index % 8 === 0 ? user.pingUntil(endAt) : undefined;
      while (Date.now() < endAt) {
        await sleep(Math.min(gap(user.rng), 20_000, Math.max(0, endAt - Date.now())));
        // A restart took the connection: back (through the next node of a cluster), resuming each room with since.
        if (user.lostConnection && nodes.length > 1) user.hops++;
        if (user.lostConnection && !(await user.connect(port))) return;
        if (Date.now() < endAt) await user.chat();
      }
      await pinging;
      return;
    }
    while (Date.now() < endAt) {
      // In a cluster each return is through another node: every resume crosses nodes.
      if (nodes.length > 1) user.hops++;
      if (!(await user.connect(port))) return;
      const stayUntil = Math.min(endAt, Date.now() + 500 + user.rng.int(4000));
      while (Date.now() < stayUntil) {
        await sleep(Math.min(gap(user.rng), Math.max(0, stayUntil - Date.now())));
        if (Date.now() < stayUntil) await user.chat();
      }
      await user.leave(user.rng.pick(DEPARTURES));
      if (Date.now() < endAt) await sleep(100 + user.rng.int(1500));
    }
  }));
}

/**
 * After a wave: steady users got every message of their rooms, then they go
 * too, and nothing may be left behind. Returns the last metrics scrape.
 */
async function checkWave(ctx: SoakContext): Promise<Record<string, number> | null> {
  const { server, ledger, users, rooms } = ctx;
  // Everything sent has an answer by now; every steady client must reach each room's last seq.
  const observer = await Wire.open(server.port);
  ledger.connected(server.port);
  await observer.request({ type: "hello", nick: "observer" });
  const finalSeq = new Map<string, number>();
  for (const r of (await observer.request({ type: "rooms" })).rooms as Frame[]) finalSeq.set(r.name, r.seq);
  const steady = users.filter((u) => u.steady && u.wire);
  const caughtUp = () => steady.every((u) => [...u.places].every(([room, p]) => p.lastSeq >= (finalSeq.get(room) ?? 0)));
  if (!(await waitFor(caughtUp, 15_000))) ledger.problem("steady clients did not all reach the last seq of their rooms");
  for (const user of steady) {
    for (const [room, place] of user.places) {
      if (place.lastSeq !== finalSeq.get(room)) ledger.problem(`${user.nick}: ${room} ends at ${place.lastSeq}, the room at ${finalSeq.get(room)}`);
    }
  }
  const unseen = [...ledger.rooms].flatMap(([room, log]) => {
    const missing = Array.from({ length: finalSeq.get(room) ?? 0 }, (_, i) => i + 1).filter((s) => !log.bySeq.has(s));
    return missing.length ? [`${room}: ${missing.length} seqs nobody saw`] : [];
  });
  if (unseen.length) ledger.problem(`messages nobody received: ${unseen.slice(0, 5).join("; ")}`);
  await Promise.all(steady.map((user, i) => user.leave(i % 2 === 0 ? "quit" : "fin")));

  // Nothing left behind: no members, nobody in who, one disconnect line per connection, empty gauges.
  const members = async () => ((await observer.request({ type: "rooms" })).rooms as Frame[]).filter((r) => r.members > 0);
  if (!(await waitFor(async () => (await members()).length === 0, 10_000))) {
    ledger.problem(`members left behind: ${JSON.stringify((await members()).slice(0, 5))}`);
  }
  for (const room of rooms) {
    const who = await observer.request({ type: "who", room });
    if (who.type === "who" && who.users.length > 0) ledger.problem(`who ${room} still lists ${who.users.length} users`);
  }
  await observer.request({ type: "quit" });
  observer.socket.destroy();
  if (ledger.acks.size > 0 && ctx.restarts) await checkAcksKept(ctx, finalSeq);
  let last: Record<string, number> | null = null;
  for (const [k, node] of ctx.nodes.entries()) {
    const name = ctx.nodes.length > 1 ? `node ${k + 1}: ` : "";
    const opened = ledger.connectionsAt.get(node.port) ?? 0;
    await waitFor(() => disconnectRecords(node.stderr()).length >= opened, 10_000);
    const records = disconnectRecords(node.stderr());
    const ids = new Set(records.map((r) => r.conn));
    if (records.length !== opened || ids.size !== opened) {
      ledger.problem(`${name}${opened} connections but ${records.length} disconnect lines for ${ids.size} connections`);
    }
    const address = ctx.metricsAddresses[k];
    if (!address) continue;
    let metrics: Record<string, number> = {};
    const settled = async () => {
      metrics = await scrapeMetrics(address);
      return metrics.tcpchat_connections === 0 && metrics.tcpchat_users_registered === 0 && metrics.tcpchat_outbound_queue_bytes === 0;
    };
    if (!(await waitFor(settled, 10_000))) ledger.problem(`${name}metrics after everyone left: ${JSON.stringify(pick(metrics))}`);
    last = last ? sumMetrics(last, metrics) : metrics;
  }
  return last;
}

/** Two scrapes added up (a cluster's nodes together). */
function sumMetrics(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [name, value] of Object.entries(b)) out[name] = (out[name] ?? 0) + value;
  return out;
}

/**
 * Runs a soak against a fresh server in `waves` equal waves. After each wave
 * everyone has left; the first wave's RSS then is the warm baseline, which
 * later waves must come back to (garbage-collected runtimes keep some of
 * their peak heap, so the cold baseline before any client is only reported).
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const rng = new Rng(options.seed);
  const withMetrics = "metrics" in SETTING_SPECS;
  const restarts = Math.max(0, options.restarts ?? 0);
  const nodeCount = Math.max(0, options.cluster ?? 0);
  if (options.abuse && nodeCount > 0) throw new Error("abuse and cluster do not mix: pick one");
  const dataDir = restarts > 0 && nodeCount === 0 ? mkdtempSync(join(tmpdir(), "tcpchat-soak-")) : "";
  const flags = [
    "--default-room",
    "",
    "--history",
    String(HISTORY),
    "--data-dir",
    dataDir,
    // With abuse, loopback addresses count like any other: each attack comes from one of its own.
    ...(options.abuse ? ["--per-ip-exempt-loopback", "false"] : []),
    ...(withMetrics ? ["--metrics", "127.0.0.1:0"] : []),
  ];
  const cluster = nodeCount > 0 ? await startSoakCluster(options.runtime, nodeCount, flags) : undefined;
  const startServer = cluster ? cluster.startNode : (port = 0) => startChatServer(options.runtime, [...flags, "--port", String(port)]);
  const nodes = cluster ? cluster.nodes : [await startServer()];
  let server = nodes[0];
  const ledger = new Ledger();
  const metricsOf = async (process: ChatServerProcess) =>
    withMetrics ? (await process.waitForLine(/^metrics /, { timeoutMs: 5000 }).catch(() => "")).slice(8) || null : null;
  const metricsAddresses = await Promise.all(nodes.map(metricsOf));
  const roomCount = Math.max(4, Math.round(options.clients / 25));
  const rooms = Array.from({ length: roomCount }, (_, i) => `soak${i}`);
  for (const room of rooms) ledger.rooms.set(room, new RoomLog());
  const users = Array.from({ length: options.clients }, (_, i) => {
    const mine = [...new Set(Array.from({ length: 1 + rng.int(3) }, () => rng.pick(rooms)))];
    return new SoakUser(i, i % 2 === 0, mine, ledger, new Rng(options.seed + i + 1), restarts > 0);
  });
  if (options.abuse) {
    if (restarts > 0) throw new Error("abuse and restarts do not mix: pick one");
    // One address per honest user (127.1.0.1 on): the per-address limits then bite the attackers only.
    users.forEach((user, i) => (user.localAddress = `127.1.${Math.floor(i / 250)}.${1 + (i % 250)}`));
  }
  const abuseCounts: AbuseCounts[] = [];
  // Each client chats at this mean interval, so all of them together send msgRate per second.
  const meanGapMs = (options.clients / options.msgRate) * 1000;
  const ctx: SoakContext = {
    server,
    nodes,
    metricsAddresses,
    // One server: its port, whatever the hops. A cluster: the users spread over the nodes, each hop to the next.
    portOf: (user, hops) => ctx.nodes[(user.index + hops) % ctx.nodes.length].port,
    ledger,
    users,
    rooms,
    gap: (r) => Math.max(20, -Math.log(1 - r.next()) * meanGapMs),
    restarts,
  };
  // RSS of the server, or of a cluster's nodes together (a node down for a restart counts nothing).
  const rssNow = () => ctx.nodes.reduce((sum, node) => sum + (node.alive() ? node.rssBytes() : 0), 0);
  const rssCold = rssNow();
  let rssPeak = rssCold;
  const afterWave: number[] = [];
  let metrics: Record<string, number> | null = null;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssNow());
  }, 500);
  const progress = setInterval(() => {
    const c = ledger.counts;
    log(`${((Date.now() - started) / 1000).toFixed(0)} s: ${c.connections} connections, ${c.acked} acked, ${c.delivered} delivered, ` +
      `${c.resumes} resumes, RSS ${mib(rssNow())} MiB, ${ledger.problems.length} problems`);
  }, 10_000);
  try {
    const waves = Math.max(1, options.waves ?? 2);
    const waveMs = (options.seconds * 1000) / waves;
    for (let w = 0; w < waves; w++) {
      // Arrivals are spread over the first seconds, as after a deploy.
      const endAt = Date.now() + waveMs;
      const rampMs = Math.min(3000, waveMs / 5);
      await Promise.all([
        wave(ctx, endAt, rampMs),
        options.abuse ? abuse(ctx, w, endAt, rampMs).then((c) => abuseCounts.push(c)) : undefined,
        restarts > 0 ? restartDuring(ctx, restarts, waveMs * 0.8, startServer, metricsOf, log, w * restarts) : undefined,
      ]);
      for (const node of ctx.nodes) if (!node.alive()) throw new Error(`the server exited (${await node.exited})`);
      metrics = await checkWave(ctx);
      // Once everyone is gone, memory must come back to where the first wave left it
      // (not checked with restarts: each restart is a fresh process).
      const warm = restarts > 0 ? undefined : afterWave[0];
      const limit = warm === undefined ? Infinity : warm + Math.max(24 * 1024 * 1024, warm * 0.15);
      let rss = rssNow();
      if (!(await waitFor(() => (rss = rssNow()) <= limit, 15_000))) {
        ledger.problem(`RSS ${mib(rss)} MiB after wave ${w + 1}; ${mib(warm ?? 0)} MiB after wave 1 (peak ${mib(rssPeak)})`);
      }
      afterWave.push(rss);
      log(`wave ${w + 1} done: RSS ${mib(rss)} MiB with everyone gone (peak ${mib(rssPeak)} MiB)`);
    }
    server = ctx.server;
    for (const node of ctx.nodes) ledger.problems.push(...logErrors(node));
    if (options.abuse) ledger.problems.push(...logFloodProblems(server.stderr(), (Date.now() - started) / 1000));
    const pings = pingSummary(ledger.pingsMs);
    if (options.abuse && pings.p99Ms > ABUSE_PING_P99_MS) {
      ledger.problems.push(`honest ping p99 ${pings.p99Ms} ms under abuse (bound ${ABUSE_PING_P99_MS} ms)`);
    }
    return {
      options,
      rooms: roomCount,
      nodes: ctx.nodes.length,
      counts: ledger.counts,
      disconnectLines: ctx.nodes.reduce((sum, node) => sum + disconnectRecords(node.stderr()).length, 0),
      rss: { coldMiB: mib(rssCold), peakMiB: mib(rssPeak), afterWaveMiB: afterWave.map(mib) },
      metrics: metrics ? pick(metrics) : null,
      pings,
      ...(options.abuse ? { abuse: abuseCounts } : {}),
      problems: ledger.problems,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    clearInterval(sampler);
    clearInterval(progress);
    for (const user of users) user.wire?.socket.destroy();
    await Promise.all(ctx.nodes.map((node) => node.stop()));
    await cluster?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The honest clients' ping p99 allowed under abuse. Generous: the machine
 * running the soak is often shared, and a rename flood once pushed it to 12.6 s.
 */
const ABUSE_PING_P99_MS = 2000;

function pingSummary(ms: number[]): SoakReport["pings"] {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) : 0;
  return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: Math.round(sorted.at(-1) ?? 0) };
}

/**
 * Starts the attackers once the honest clients have arrived (the look-alikes
 * need their victim online), in the busiest honest room, until `endAt`.
 */
async function abuse(ctx: SoakContext, w: number, endAt: number, rampMs: number): Promise<AbuseCounts> {
  await sleep(rampMs + 500);
  const steady = ctx.users.filter((u) => u.steady);
  const members = new Map<string, number>();
  for (const u of steady) for (const r of u.rooms) members.set(r, (members.get(r) ?? 0) + 1);
  const busyRoom = [...members].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ctx.rooms[0];
  const victim = steady.find((u) => u.wire && !u.wire.isClosed) ?? steady[0];
  return await abuseWave({
    port: ctx.server.port,
    open: (port, address) => Wire.open(port, address),
    rng: new Rng(w + 7),
    busyRoom,
    victim: victim.nick,
    sent: (text, nick) => ctx.ledger.sent.set(text, nick),
    connected: () => ctx.ledger.connected(ctx.server.port),
    problem: (text) => ctx.ledger.problem(text),
    tag: `w${w}`,
  }, endAt);
}

function pick(metrics: Record<string, number>): Record<string, number> {
  const names = ["tcpchat_connections", "tcpchat_users_registered", "tcpchat_outbound_queue_bytes", "tcpchat_connections_accepted_total", "tcpchat_disconnects_total"];
  return Object.fromEntries(names.map((n) => [n, metrics[n]]));
}

/** Log lines at ERROR or above. */
function logErrors(server: ChatServerProcess): string[] {
  return server.stderr().split("\n").filter((l) => /"level":"(ERROR|FATAL)"/.test(l)).slice(0, 10).map((l) => `server logged: ${l.slice(0, 300)}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      clients: { type: "string", default: "2000" },
      "msg-rate": { type: "string" },
      waves: { type: "string", default: "2" },
      restarts: { type: "string", default: "0" },
      abuse: { type: "boolean", default: false },
      cluster: { type: "string", default: "0" },
      runtime: { type: "string", default: "bun" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "Usage: npm run soak -- [--seconds 60] [--clients 2000] [--msg-rate N/s (clients/10)] [--waves 2]\n" +
        "                       [--restarts N per wave, SIGKILL on a data directory] [--abuse] [--runtime bun|deno|node] [--seed N]\n" +
        "                       [--cluster N nodes over a redis-server of its own; --restarts then kills nodes in turn]\n" +
        "Soaks a fresh server on 127.0.0.1; exits 1 if anything was lost or left behind.",
    );
    return 0;
  }
  const runtime = values.runtime as RuntimeName;
  if (!(ALL_RUNTIMES as readonly string[]).includes(runtime)) throw new Error(`--runtime must be one of ${ALL_RUNTIMES.join(", ")}`);
  const clients = Number(values.clients);
  const options: SoakOptions = {
    runtime,
    seconds: Number(values.seconds),
    clients,
    msgRate: Number(values["msg-rate"] ?? clients / 10),
    waves: Number(values.waves),
    restarts: Number(values.restarts),
    abuse: values.abuse,
    cluster: Number(values.cluster),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed),
    log: (line) => console.log(line),
  };
  const where = options.cluster ? `${options.cluster} nodes over Redis` : "one server";
  console.log(`soaking ${runtime} (${where}): ${clients} clients, ${options.msgRate} msg/s, ${options.seconds} s in ${options.waves} waves, seed ${options.seed}`);
  const report = await runSoak(options);
  console.log(JSON.stringify({ ...report, options: { ...options, log: undefined } }, null, 1));
  return report.problems.length === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main());
