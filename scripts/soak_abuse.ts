/**
 * The soak's abuse wave (issue 17, PROTOCOL section 16): while the honest
 * clients chat, churn and resume, a few hostile clients play the attacks of
 * the abuse table, each from its own loopback address (the server runs with
 * `per_ip_exempt_loopback` off, and every honest user has an address of its
 * own, as on the internet):
 *
 * - 127.0.0.2 churns: connect, hello, join a fresh room, 9 messages, close,
 *   again; the messages accepted stay within the address's shared bucket;
 * - 127.0.0.3 floods renames in the busiest honest room (100 `nick` frames
 *   a write); the renames that reach the room stay within the bucket too;
 * - 127.0.0.4 fills a room with maximum-size messages while another
 *   connection keeps resuming it with `since: 0`: every resume must come
 *   whole, in pages, and never as `bye` `slow_consumer`;
 * - 127.0.0.5 writes 40 messages in one write into an honest room, closes,
 *   again (the accepted ones are checked like everyone's: in order, once);
 * - 127.0.0.6 tries look-alikes of an honest nick that is online: none may
 *   be taken, and no frame may carry a lone surrogate.
 *
 * The soak's own checks still run on the honest clients, and their ping
 * round trips are reported (p99) and bounded.
 *
 * @module
 */
import { nickKey } from "../lib/protocol/names.ts";
import { SETTING_SPECS } from "../lib/config/settings.ts";
import type { Frame } from "../tests/support/chat_client.ts";
import { frameProblems, lookalikeNick } from "./fuzz_abuse.ts";
import type { Rng } from "./fuzz.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The part of the soak's connection the attackers use (the soak's `Wire`). */
export interface AbuseWire {
  onFrame: (frame: Frame) => void;
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  readonly socket: { destroy(): void; write(data: string): boolean };
  send(frame: Frame | string): void;
  request(frame: Frame, timeoutMs?: number): Promise<Frame>;
}

/** What the abuse wave needs from the soak. */
export interface AbuseContext {
  port: number;
  /** Opens a connection from `localAddress`. */
  open: (port: number, localAddress: string) => Promise<AbuseWire>;
  rng: Rng;
  /** The honest room with the most members: renames and bursts go there. */
  busyRoom: string;
  /** An honest nick that stays online the whole wave: the look-alikes' victim. */
  victim: string;
  /** Registers a text as sent by `nick`, so the honest clients' checks accept it. */
  sent: (text: string, nick: string) => void;
  /** Counts a connection the server accepted (each gets one disconnect log line). */
  connected: () => void;
  problem: (text: string) => void;
  /** A prefix unique to the wave, for nicks and rooms. */
  tag: string;
}

/** What the attackers did and what got through. */
export interface AbuseCounts {
  churnConnections: number;
  churnRefused: number;
  churnAccepted: number;
  renamesSent: number;
  renamesSeen: number;
  bigMessages: number;
  bigResumes: number;
  bigPages: number;
  burstWrites: number;
  burstAccepted: number;
  lookalikesTried: number;
  seconds: number;
}

/** The default per-address bucket: `ip_burst` + `ip_rate_per_s` × seconds (the soak runs with defaults). */
function addressBound(seconds: number): number {
  const burst = SETTING_SPECS.ip_burst.default as number;
  const rate = SETTING_SPECS.ip_rate_per_s.default as number;
  return burst + Math.ceil(rate * seconds) + 5;
}

/** Opens a connection and says hello; null when refused (`server_full`, counted) or closed. */
async function enter(ctx: AbuseContext, address: string, nick: string, counts?: AbuseCounts): Promise<AbuseWire | null> {
  let wire: AbuseWire;
  try {
    wire = await ctx.open(ctx.port, address);
  } catch {
    return null;
  }
  // A refusal at accept comes without the hello's id, before it is answered.
  let refusal: Frame | null = null;
  wire.onFrame = (f) => {
    if (f.type === "error" && f.code === "server_full") refusal = f;
  };
  const answer = await wire.request({ type: "hello", nick }, 5000);
  const welcome: Frame = refusal ?? answer;
  if (welcome.type === "error" && welcome.code === "server_full") {
    // Refused at accept: no connection, no disconnect line. Wait as told.
    if (counts) counts.churnRefused++;
    wire.socket.destroy();
    await sleep(Math.min(1000, Number(welcome.retry_after_ms) || 100));
    return null;
  }
  if (welcome.type !== "closed") ctx.connected();
  if (welcome.type !== "welcome") {
    wire.socket.destroy();
    return null;
  }
  return wire;
}

async function churn(ctx: AbuseContext, endAt: number, counts: AbuseCounts): Promise<void> {
  for (let i = 0; Date.now() < endAt; i++) {
    counts.churnConnections++;
    const wire = await enter(ctx, "127.0.0.2", `${ctx.tag}c${i}`, counts);
    if (!wire) continue;
    const room = `${ctx.tag}fresh${i}`;
    let last: () => void = () => {};
    const done = new Promise<void>((resolve) => (last = resolve));
    wire.onFrame = (f) => {
      if (f.type === "msg" && f.from === `${ctx.tag}c${i}`) counts.churnAccepted++;
      if (f.id === "m8") last();
    };
    let burst = JSON.stringify({ type: "join", room }) + "\n";
    for (let m = 0; m < 9; m++) burst += JSON.stringify({ type: "msg", room, text: `churn ${i} ${m}`, id: `m${m}` }) + "\n";
    wire.send(burst);
    await Promise.race([done, wire.closed, sleep(1000)]);
    wire.socket.destroy();
  }
}

async function renameFlood(ctx: AbuseContext, endAt: number, counts: AbuseCounts): Promise<void> {
  for (let c = 0; Date.now() < endAt; c++) {
    const wire = await enter(ctx, "127.0.0.3", `${ctx.tag}r${c}`);
    if (!wire) {
      await sleep(200);
      continue;
    }
    wire.onFrame = (f) => {
      if (f.type === "nick") counts.renamesSeen++;
    };
    await wire.request({ type: "join", room: ctx.busyRoom }, 5000);
    let n = 0;
    while (Date.now() < endAt && !wire.isClosed) {
      wire.send(Array.from({ length: 100 }, () => JSON.stringify({ type: "nick", nick: `${ctx.tag}r${c}x${n++}` }) + "\n").join(""));
      counts.renamesSent += 100;
      await sleep(20);
    }
    wire.socket.destroy();
  }
}

/** Fills a room with maximum-size messages, while another connection keeps resuming it from seq 0. */
async function bigResumes(ctx: AbuseContext, endAt: number, counts: AbuseCounts): Promise<void> {
  const room = `${ctx.tag}big`;
  const maxText = SETTING_SPECS.max_text.default as number;
  const filling = (async () => {
    const wire = await enter(ctx, "127.0.0.4", `${ctx.tag}filler`);
    if (!wire) return ctx.problem("abuse: the filler could not connect");
    await wire.request({ type: "join", room }, 5000);
    for (let i = 0; i < 100 && Date.now() < endAt; i++) {
      const ack = await wire.request({ type: "msg", room, text: String(i % 10).repeat(8) + "\u{1f600}".repeat(maxText - 8) }, 10_000);
      if (ack.type === "msg") counts.bigMessages++;
      else if (ack.type === "error" && ack.code === "rate_limited") await sleep(Number(ack.retry_after_ms) || 100);
      else break;
    }
    await wire.request({ type: "quit" }, 5000);
    wire.socket.destroy();
  })();
  const wire = await enter(ctx, "127.0.0.7", `${ctx.tag}resumer`);
  if (!wire) return ctx.problem("abuse: the resumer could not connect");
  wire.onFrame = (f) => {
    if (f.type === "bye") ctx.problem(`abuse: a since 0 resume of ${room} cut the resumer: ${JSON.stringify(f)}`);
  };
  await sleep(500);
  while (Date.now() < endAt && !wire.isClosed) {
    const snap = await wire.request({ type: "join", room, since: 0 }, 10_000);
    if (snap.type !== "room") {
      if (snap.type === "error" && snap.code === "rate_limited") {
        await sleep(Number(snap.retry_after_ms) || 200);
        continue;
      }
      ctx.problem(`abuse: join ${room} since 0 answered ${JSON.stringify(snap).slice(0, 200)}`);
      break;
    }
    // Page until the room's seq: every seq from 1 on, once, in order.
    const seqs = (snap.history as Frame[]).map((m) => m.seq as number);
    let more = snap.more === true;
    while (more && !wire.isClosed) {
      const page = await wire.request({ type: "history", room, after: seqs.at(-1) ?? 0, limit: 100 }, 10_000);
      if (page.type === "error" && page.code === "rate_limited") {
        await sleep(Number(page.retry_after_ms) || 200);
        continue;
      }
      if (page.type !== "history") break;
      counts.bigPages++;
      seqs.push(...(page.msgs as Frame[]).map((m) => m.seq as number));
      more = page.more === true;
    }
    // Pages may run past the snapshot's seq (the filler goes on): 1..n, n >= the snapshot's seq.
    const whole = seqs.every((seq, i) => seq === i + 1) && seqs.length >= (snap.seq as number);
    if (!wire.isClosed && !whole) {
      ctx.problem(`abuse: resume of ${room} since 0 at seq ${snap.seq} got seqs ${seqs.slice(0, 5).join(",")}... (${seqs.length}), not 1..${snap.seq}`);
    }
    counts.bigResumes++;
    await wire.request({ type: "leave", room }, 5000);
    await sleep(200);
  }
  await filling;
  wire.socket.destroy();
}

async function bursts(ctx: AbuseContext, endAt: number, counts: AbuseCounts): Promise<void> {
  for (let c = 0; Date.now() < endAt; c++) {
    const nick = `${ctx.tag}b${c}`;
    const wire = await enter(ctx, "127.0.0.5", nick);
    if (!wire) {
      await sleep(200);
      continue;
    }
    wire.onFrame = (f) => {
      if (f.type === "msg" && f.from === nick && typeof f.id === "string") counts.burstAccepted++;
    };
    await wire.request({ type: "join", room: ctx.busyRoom }, 5000);
    let out = "";
    for (let i = 0; i < 40; i++) {
      const text = `${nick}/burst/${i}`;
      ctx.sent(text, nick);
      out += JSON.stringify({ type: "msg", room: ctx.busyRoom, text, id: `b${i}` }) + "\n";
    }
    wire.send(out);
    counts.burstWrites++;
    await Promise.race([wire.closed, sleep(400)]);
    wire.socket.destroy();
  }
}

async function lookalikes(ctx: AbuseContext, endAt: number, counts: AbuseCounts): Promise<void> {
  const wire = await enter(ctx, "127.0.0.6", `${ctx.tag}l`);
  if (!wire) return ctx.problem("abuse: the look-alike client could not connect");
  wire.onFrame = (f) => {
    for (const p of frameProblems(f, ctx.victim)) ctx.problem(`abuse: ${p}`);
  };
  while (Date.now() < endAt && !wire.isClosed) {
    const nick = lookalikeNick(ctx.rng, ctx.victim);
    counts.lookalikesTried++;
    const answer = await wire.request({ type: "nick", nick }, 5000);
    const blank = nick.replace(/[\u3164\uffa0\u115f\u1160]/gu, "") === "";
    if (answer.type === "nick" && (nickKey(nick) === nickKey(ctx.victim) || blank)) {
      ctx.problem(`abuse: the look-alike ${JSON.stringify(nick)} of ${ctx.victim} was taken`);
    }
    if (answer.type === "nick") await wire.request({ type: "nick", nick: `${ctx.tag}l` }, 5000);
    await sleep(answer.type === "error" && answer.code === "rate_limited" ? 500 : 100);
  }
  wire.socket.destroy();
}

/** Runs every attack until `endAt`; checks the per-address bounds on what got through. */
export async function abuseWave(ctx: AbuseContext, endAt: number): Promise<AbuseCounts> {
  const counts: AbuseCounts = {
    churnConnections: 0,
    churnRefused: 0,
    churnAccepted: 0,
    renamesSent: 0,
    renamesSeen: 0,
    bigMessages: 0,
    bigResumes: 0,
    bigPages: 0,
    burstWrites: 0,
    burstAccepted: 0,
    lookalikesTried: 0,
    seconds: 0,
  };
  const started = Date.now();
  await Promise.all([
    churn(ctx, endAt, counts),
    renameFlood(ctx, endAt, counts),
    bigResumes(ctx, endAt, counts),
    bursts(ctx, endAt, counts),
    lookalikes(ctx, endAt, counts),
  ]);
  counts.seconds = (Date.now() - started) / 1000;
  const bound = addressBound(counts.seconds);
  // Joins spend tokens too, so the messages alone stay below the bound.
  if (counts.churnAccepted > bound) ctx.problem(`abuse: ${counts.churnAccepted} churn messages accepted from one address in ${counts.seconds} s (bound ${bound})`);
  if (counts.renamesSeen > bound) ctx.problem(`abuse: ${counts.renamesSeen} renames reached the room from one address in ${counts.seconds} s (bound ${bound})`);
  if (counts.burstAccepted > bound) ctx.problem(`abuse: ${counts.burstAccepted} burst messages accepted from one address in ${counts.seconds} s (bound ${bound})`);
  if (counts.churnConnections > 0 && counts.churnAccepted === 0) ctx.problem("abuse: the churn got nothing through (is the attack running?)");
  if (counts.bigResumes === 0) ctx.problem("abuse: no since 0 resume of the big room finished");
  return counts;
}
