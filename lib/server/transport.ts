/**
 * What a {@linkcode Connection} needs from the socket under it, so the same
 * session, limits and hub serve a TCP byte stream and a WebSocket alike.
 * Two modules fill it in: `tcp_transport.ts` (bytes in, lines split by the
 * connection; queued frames joined into one write) and `ws_transport.ts`
 * (one message in = one frame; one message out per queued frame).
 *
 * @module
 */
import type { NetAddr } from "../runtime/types.ts";
import type { DisconnectReason } from "./connection.ts";
import type { BatchCache, OutboundQueue } from "./outbound_queue.ts";

/** Where a transport delivers what the peer sends. */
export interface InboundSink {
  /** Bytes of a stream, in any chunking (TCP): the connection splits them into lines. */
  onChunk(bytes: Uint8Array): void;
  /** One whole text message (WebSocket): exactly one frame. */
  onMessage(text: string): void;
  /** One binary message (WebSocket), which the protocol refuses. */
  onBinary(byteLength: number): void;
  /** True once the connection wants no more input. */
  readonly inputClosed: boolean;
}

/** One client's socket, as the connection above sees it. */
export interface Transport {
  /** For logs and metrics; `tls` and `wss` are encrypted (`plaintext_auth`). */
  readonly kind: "tcp" | "tls" | "ws" | "wss";
  /**
   * True when the transport has its own message boundaries (WebSocket): the
   * dialect is JSON from the start and people are never greeted in text.
   */
  readonly framed: boolean;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /**
   * Settles once a TLS handshake is done (the greeting waits for it; a
   * connection closed before it is counted as `tls_handshake`); undefined
   * when there is none to wait for.
   */
  readonly handshake?: Promise<void>;
  /**
   * Feeds input to `sink` until the peer is done sending. Resolves true when
   * only the peer's sending side ended (TCP FIN: we may still write, then
   * close), false when the whole socket is closed. Never rejects.
   */
  read(sink: InboundSink): Promise<boolean>;
  /** Settles once the socket is closed, with why as the connection logs it. Never rejects. */
  readonly closed: Promise<DisconnectReason>;
  /**
   * Hands everything in `queue` to the socket (each queued chunk is one
   * encoded frame; shared chunks are never mutated) and resolves when the
   * runtime has taken it; `null` when the queue was empty.
   */
  write(queue: OutboundQueue, cache: BatchCache | undefined): Promise<void> | null;
  /** Bytes the runtime holds that the peer has not taken yet, beyond the write promise (WebSocket's buffered amount). */
  readonly bufferedBytes: number;
  /**
   * While fewer bytes than this are queued, frames wait for the end of the
   * event-loop turn rather than the end of the current task (0: never wait).
   */
  readonly holdBytes: number;
  /** Sends one encoded frame at once, outside the queue, best effort (a last `bye`). */
  writeNow(frame: Uint8Array): void;
  /** Sends one encoded frame (an `error` server_full) and closes; for connections that are refused. */
  refuse(frame: Uint8Array): void;
  /** Ends politely after what was written: FIN on TCP, a close frame on WebSocket. */
  closeWrite(reason: DisconnectReason): Promise<void>;
  /** Closes at once; what is pending is abandoned. Idempotent. */
  close(reason: DisconnectReason): void;
}
