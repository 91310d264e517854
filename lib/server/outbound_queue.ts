/**
 * A connection's bounded outbound queue: frames wait here until the write
 * scheduler hands them to the socket as one write.
 *
 * @module
 */

/**
 * The last batch built by {@linkcode OutboundQueue.take}. Members of one room
 * usually have the very same frames queued in one turn, so the next queue
 * with the same chunks (the same objects, in order) reuses the joined bytes
 * instead of copying them again. Valid for one scheduler run.
 */
export interface BatchCache {
  chunks: Uint8Array[] | null;
  joined: Uint8Array | null;
}

/** Bytes waiting for one connection. */
export class OutboundQueue {
  /** Null while empty, so idle connections hold no array. */
  #chunks: Uint8Array[] | null = null;
  #bytes = 0;

  /** Bytes queued and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends a frame's bytes (shared with other queues: never mutated). */
  push(bytes: Uint8Array): void {
    (this.#chunks ??= []).push(bytes);
    this.#bytes += bytes.length;
  }

  /** Takes everything queued as one buffer (never to be mutated), or null when empty. */
  take(cache?: BatchCache): Uint8Array | null {
    const chunks = this.#chunks;
    if (chunks === null) return null;
    let out: Uint8Array;
    if (chunks.length === 1) {
      out = chunks[0];
    } else if (cache && cache.chunks && sameChunks(cache.chunks, chunks)) {
      out = cache.joined!;
    } else {
      out = new Uint8Array(this.#bytes);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      if (cache) {
        cache.chunks = chunks;
        cache.joined = out;
      }
    }
    this.#chunks = null;
    this.#bytes = 0;
    return out;
  }

  /** Takes the queued frames one by one (for a transport with message boundaries), or null when empty. */
  takeChunks(): Uint8Array[] | null {
    const chunks = this.#chunks;
    this.#chunks = null;
    this.#bytes = 0;
    return chunks;
  }

  /** Drops everything queued (the connection is going away). */
  clear(): void {
    this.#chunks = null;
    this.#bytes = 0;
  }
}

function sameChunks(a: Uint8Array[], b: Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
