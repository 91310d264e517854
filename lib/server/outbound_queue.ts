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

/**
 * Emptied chunk lists, for queues that go from one chunk to two. In a
 * fan-out every member's queue gets the same run of frames each turn, and a
 * fresh list per member per turn, grown step by step, was the costliest part
 * of queueing a delivery (issue 15). Lists come back here once their bytes
 * are joined; bounded, and only short ones, so this holds little memory and
 * no frames (each is emptied first).
 */
const spareLists: Uint8Array[][] = [];
const MAX_SPARE_LISTS = 256;
const MAX_SPARE_LENGTH = 256;

function recycle(list: Uint8Array[]): void {
  if (list.length > MAX_SPARE_LENGTH || spareLists.length >= MAX_SPARE_LISTS) return;
  list.length = 0;
  spareLists.push(list);
}

/**
 * Ends a scheduler run: the list the cache held goes back to the spares
 * (no queue holds it any more: a queue lets go of its list when taken).
 */
export function endBatch(cache: BatchCache): void {
  if (cache.chunks !== null) recycle(cache.chunks);
  cache.chunks = null;
  cache.joined = null;
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
      const list = spareLists.pop() ?? [];
      list.push(this.#one, bytes);
      this.#chunks = list;
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
    this.#chunks = null;
    if (cache && cache.chunks && sameChunks(cache.chunks, chunks)) {
      out = cache.joined!;
      recycle(chunks);
    } else {
      out = new Uint8Array(this.#bytes);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      if (cache) {
        // The list the cache held belongs to no queue any more.
        if (cache.chunks !== null) recycle(cache.chunks);
        cache.chunks = chunks;
        cache.joined = out;
      } else recycle(chunks);
    }
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
    if (this.#chunks !== null) recycle(this.#chunks);
    this.#chunks = null;
    this.#bytes = 0;
  }
}

function sameChunks(a: Uint8Array[], b: Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
