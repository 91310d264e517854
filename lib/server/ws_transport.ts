/**
 * The WebSocket transport: one text message in is one JSON frame (the
 * runtime has already checked UTF-8 and `max_frame`, closing with 1009 past
 * it); one queued frame goes out as one text message, without its LF. A
 * broadcast's frame is encoded once, and decoded to text once for all the
 * WebSocket members of the room (a WeakMap keyed by the shared bytes).
 *
 * Frames are sent at the end of the event-loop turn, not at once: a runtime
 * delivers the messages of one TCP read as separate callbacks, each followed
 * by the write scheduler's microtask, so sending at once would cost a socket
 * write per message per member (measured: ten times the server CPU per
 * delivery of TCP). Batched, each member gets one (corked) write per turn, or
 * sooner once its batch reaches {@linkcode SEND_NOW_BYTES}. The batch counts
 * in `bufferedBytes`, so `max_pending` bounds it like the runtime's buffer.
 *
 * @module
 */
import type { WsPeer } from "../runtime/types.ts";
import type { DisconnectReason } from "./connection.ts";
import type { OutboundQueue } from "./outbound_queue.ts";
import type { InboundSink, Transport } from "./transport.ts";

const decoder = new TextDecoder();
/** The text of each encoded frame, made once however many WebSocket peers it goes to. */
const frameText = new WeakMap<Uint8Array, string>();
const RESOLVED: Promise<void> = Promise.resolve();
/** A batch this large is sent without waiting for the end of the turn. */
export const SEND_NOW_BYTES = 64 * 1024;

/** Transports with a batch waiting for the end of this turn. */
let due: WsTransport[] = [];

function sendDue(): void {
  const transports = due;
  due = [];
  for (const transport of transports) transport.sendBatch();
}

/** WebSocket close statuses (RFC 6455, 7.4.1) for the reasons a server closes. */
function closeStatus(reason: DisconnectReason): number {
  switch (reason) {
    case "shutdown":
      return 1001; // going away
    case "slow_consumer":
    case "flood":
      return 1008; // policy violation
    case "server_full":
      return 1013; // try again later
    case "error":
      return 1011;
    default:
      return 1000;
  }
}

/** The text of one encoded frame, without its trailing LF. */
export function textOfFrame(bytes: Uint8Array): string {
  let text = frameText.get(bytes);
  if (text === undefined) {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes.length - 1 : bytes.length;
    text = decoder.decode(bytes.subarray(0, end));
    frameText.set(bytes, text);
  }
  return text;
}

/** A {@linkcode Transport} over a runtime {@linkcode WsPeer}. */
export class WsTransport implements Transport {
  readonly kind = "ws";
  readonly framed = true;
  /** Frames waiting for the end of the turn (null while none: idle connections hold no array). */
  #batch: Uint8Array[] | null = null;
  #batchBytes = 0;
  #due = false;

  constructor(readonly peer: WsPeer) {}

  get remoteAddr(): WsPeer["remoteAddr"] {
    return this.peer.remoteAddr;
  }

  get bufferedBytes(): number {
    return this.peer.bufferedAmount + this.#batchBytes;
  }

  read(sink: InboundSink): Promise<boolean> {
    this.peer.onMessage = (message) => {
      if (sink.inputClosed) return;
      if (typeof message === "string") sink.onMessage(message);
      else sink.onBinary(message.byteLength);
    };
    // A WebSocket has no half-close: input ends when the socket is closed.
    return this.peer.closed.then(() => false);
  }

  get closed(): Promise<DisconnectReason> {
    return this.peer.closed.then(({ code }) =>
      code === 1009 ? "frame_too_large" : code === 1006 ? "reset" : code === 1007 || code === 1002 ? "error" : "disconnect"
    );
  }

  /** Moves the queued frames into this turn's batch; the runtime has them at the end of the turn. */
  write(queue: OutboundQueue): Promise<void> | null {
    const chunks = queue.takeChunks();
    if (chunks === null) return null;
    if (this.#batch === null) this.#batch = chunks;
    else for (const chunk of chunks) this.#batch.push(chunk);
    for (const chunk of chunks) this.#batchBytes += chunk.length;
    if (this.#batchBytes >= SEND_NOW_BYTES) this.sendBatch();
    else if (!this.#due) {
      this.#due = true;
      if (due.length === 0) setImmediate(sendDue);
      due.push(this);
    }
    return RESOLVED;
  }

  /** Hands the batch to the runtime, in one write where it can. */
  sendBatch(): void {
    this.#due = false;
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    this.#batchBytes = 0;
    if (batch.length === 1) this.peer.sendText(textOfFrame(batch[0]));
    else this.peer.sendTexts(batch.map(textOfFrame));
  }

  writeNow(frame: Uint8Array): void {
    this.sendBatch();
    this.peer.sendText(textOfFrame(frame));
  }

  refuse(frame: Uint8Array): void {
    this.peer.sendText(textOfFrame(frame));
    this.peer.close(closeStatus("server_full"), "server_full");
  }

  closeWrite(reason: DisconnectReason): Promise<void> {
    this.sendBatch();
    this.peer.close(closeStatus(reason), reason);
    return RESOLVED;
  }

  /** At once: a peer that stopped reading would never finish a closing handshake. */
  close(): void {
    this.#batch = null;
    this.#batchBytes = 0;
    this.peer.terminate();
  }
}
