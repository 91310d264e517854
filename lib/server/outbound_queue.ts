/**
 * A connection's bounded outbound queue: frames wait here until the write
 * scheduler hands them to the socket as one write.
 *
 * @module
 */

/** Bytes waiting for one connection. */
export class OutboundQueue {
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  /** Bytes queued and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends a frame's bytes (shared with other queues: never mutated). */
  push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
  }

  /** Takes everything queued as one buffer, or null when empty. */
  take(): Uint8Array | null {
    const chunks = this.#chunks;
    if (chunks.length === 0) return null;
    let out: Uint8Array;
    if (chunks.length === 1) {
      out = chunks[0];
    } else {
      out = new Uint8Array(this.#bytes);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
    }
    this.#chunks = [];
    this.#bytes = 0;
    return out;
  }

  /** Drops everything queued (the connection is going away). */
  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
  }
}
