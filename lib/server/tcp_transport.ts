/**
 * The TCP (and TLS) transport: a byte stream. Input goes to the connection
 * in chunks, which it splits into lines; queued frames (each ending in LF)
 * leave as one write, joined once and shared by the members of a room.
 *
 * @module
 */
import type { Conn } from "../runtime/types.ts";
import type { DisconnectReason } from "./connection.ts";
import type { BatchCache, OutboundQueue } from "./outbound_queue.ts";
import type { InboundSink, Transport } from "./transport.ts";

/** How long a refused TLS connection may take over its handshake to hear why (server_full). */
const REFUSAL_HANDSHAKE_MS = 1000;

/** A {@linkcode Transport} over a runtime {@linkcode Conn}. */
export class TcpTransport implements Transport {
  // Constants as getters on the prototype, not fields: three slots less per connection (issue 15).
  /** A byte stream: lines, not messages. */
  get framed(): false {
    return false;
  }
  /** The runtime's write promise covers every byte. */
  get bufferedBytes(): 0 {
    return 0;
  }
  /** A TCP read brings many lines at once: the end of the task already batches them. */
  get holdBytes(): 0 {
    return 0;
  }

  /** `kind` is `tls` for a TLS connection: the same byte stream, named so in logs. */
  constructor(readonly conn: Conn, readonly kind: "tcp" | "tls" = "tcp") {
    conn.setNoDelay(true);
  }

  get remoteAddr(): Conn["remoteAddr"] {
    return this.conn.remoteAddr;
  }

  /** The TLS handshake, on a TLS connection. */
  get handshake(): Promise<void> | undefined {
    return this.conn.handshake;
  }

  /** Chunks pushed straight to the connection (`Conn.pipe`): no async loop per idle connection (issue 15). */
  read(sink: InboundSink): Promise<boolean> {
    return this.conn.pipe(sink);
  }

  get closed(): Promise<DisconnectReason> {
    return this.conn.closed.then((reason) =>
      reason === "reset" ? "reset" : reason === "eof" || reason === "local" ? "disconnect" : "error"
    );
  }

  write(queue: OutboundQueue, cache: BatchCache | undefined): Promise<void> | null {
    const bytes = queue.take(cache);
    return bytes === null ? null : this.conn.write(bytes);
  }

  writeNow(frame: Uint8Array): void {
    this.conn.write(frame).catch(() => {});
  }

  /**
   * Over TLS the bytes can go out only after the handshake, which a refused
   * peer must not be able to put off: it gets REFUSAL_HANDSHAKE_MS.
   */
  refuse(frame: Uint8Array): void {
    const conn = this.conn;
    const send = () => void conn.write(frame).finally(() => conn.close()).catch(() => {});
    if (conn.handshake === undefined) return send();
    const timer = setTimeout(() => conn.close(), REFUSAL_HANDSHAKE_MS);
    conn.handshake.then(() => {
      clearTimeout(timer);
      send();
    });
  }

  closeWrite(): Promise<void> {
    return this.conn.closeWrite();
  }

  close(): void {
    this.conn.close();
  }
}
