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
  /**
   * The only chunk, while there is just one: most turns queue one frame per
   * connection (a broadcast), and an array per delivery was the biggest
   * allocation of a fan-out after the socket write itself (issue 15).
   */
  #one: Uint8Array | null = null;
  /** Two chunks or more, in order; null otherwise, so idle connections hold no array. */
  #chunks: Uint8Array[] | null = null;
  #bytes = 0;

  /** Bytes queued and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends a frame's bytes (shared with other queues: never mutated). */
  push(bytes: Uint8Array): void {
    if (this.#chunks !== null) this.#chunks.push(bytes);
    else if (this.#one === null) this.#one = bytes;
    else {
      this.#chunks = [this.#one, bytes];
      this.#one = null;
    }
    this.#bytes += bytes.length;
  }

  /** Takes everything queued as one buffer (never to be mutated), or null when empty. */
  take(cache?: BatchCache): Uint8Array | null {
    const one = this.#one;
    if (one !== null) {
      this.#one = null;
      this.#bytes = 0;
      return one;
    }
    const chunks = this.#chunks;
    if (chunks === null) return null;
    let out: Uint8Array;
    if (cache && cache.chunks && sameChunks(cache.chunks, chunks)) {
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
    const one = this.#one;
    if (one !== null) {
      this.#one = null;
      this.#bytes = 0;
      return [one];
    }
    const chunks = this.#chunks;
    this.#chunks = null;
    this.#bytes = 0;
    return chunks;
  }

  /** Drops everything queued (the connection is going away). */
  clear(): void {
    this.#one = null;
    this.#chunks = null;
    this.#bytes = 0;
  }
}

function sameChunks(a: Uint8Array[], b: Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
