/**
 * The WebSocket transport: one text message in is one JSON frame (the
 * runtime has already checked UTF-8 and `max_frame`, closing with 1009 past
 * it); one queued frame goes out as one text message, without its LF. A
 * broadcast's frame is encoded once, and decoded to text once for all the
 * WebSocket members of the room (a WeakMap keyed by the shared bytes).
 *
 * Frames wait in the connection's queue until the end of the event-loop turn
 * (`holdBytes`): a runtime delivers the messages of one TCP read as separate
 * callbacks, each followed by the write scheduler's microtask, so sending
 * after each would cost a socket write per message per member (measured: ten
 * times the server CPU per delivery of TCP). Held, each member gets one
 * corked write per turn, or sooner once {@linkcode SEND_NOW_BYTES} are queued.
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
/** Frames are held for the end of the turn while less than this is queued. */
export const SEND_NOW_BYTES = 64 * 1024;

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
  /** `wss` when the page and socket are served over HTTPS. */
  readonly kind: "ws" | "wss";
  readonly framed = true;
  readonly holdBytes = SEND_NOW_BYTES;
  /**
   * The runtime's buffered amount when last read. Asking the runtime on every
   * enqueue cost 6 % of the server's time under load; while the last reading
   * was 0 (the peer keeps up) the sends since are counted instead.
   */
  #buffered = 0;

  constructor(readonly peer: WsPeer, secure = false) {
    this.kind = secure ? "wss" : "ws";
  }

  get remoteAddr(): WsPeer["remoteAddr"] {
    return this.peer.remoteAddr;
  }

  get bufferedBytes(): number {
    if (this.#buffered > 0) this.#buffered = this.peer.bufferedAmount;
    return this.#buffered;
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

  /** Hands every queued frame to the runtime, one message each, in one write where it can. */
  write(queue: OutboundQueue): Promise<void> | null {
    const chunks = queue.takeChunks();
    if (chunks === null) return null;
    if (chunks.length === 1) this.peer.sendText(textOfFrame(chunks[0]));
    else this.peer.sendTexts(chunks.map(textOfFrame));
    this.#buffered = this.peer.bufferedAmount;
    return RESOLVED;
  }

  writeNow(frame: Uint8Array): void {
    this.peer.sendText(textOfFrame(frame));
  }

  refuse(frame: Uint8Array): void {
    this.peer.sendText(textOfFrame(frame));
    this.peer.close(closeStatus("server_full"), "server_full");
  }

  closeWrite(reason: DisconnectReason): Promise<void> {
    this.peer.close(closeStatus(reason), reason);
    return RESOLVED;
  }

  /** At once: a peer that stopped reading would never finish a closing handshake. */
  close(): void {
    this.peer.terminate();
  }
}
