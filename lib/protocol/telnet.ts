/**
 * Telnet negotiation filter for the text dialect. Strips every IAC sequence
 * from the input and refuses every option the peer asks for (DO → WONT,
 * WILL → DONT), so a telnet client never waits for an answer, e.g. for the
 * TIMING-MARK it sends after Ctrl-C (IAC IP IAC DO TIMING-MARK).
 *
 * @module
 */

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;

// Parser states.
const State = { Data: 0, Iac: 1, Option: 2, Sub: 3, SubIac: 4 } as const;
type State = (typeof State)[keyof typeof State];

/** What one chunk yields: the payload bytes, and bytes to send back (or null). */
export interface TelnetResult {
  data: Uint8Array;
  reply: Uint8Array | null;
}

/** The ECHO option (RFC 857). */
const ECHO = 1;

/**
 * `IAC WILL ECHO`: the server will echo, so the client stops echoing what is
 * typed (as for a password). The server then echoes nothing.
 */
export const WILL_ECHO: Uint8Array = Uint8Array.of(IAC, WILL, ECHO);
/** `IAC WONT ECHO`: the client echoes again. */
export const WONT_ECHO: Uint8Array = Uint8Array.of(IAC, WONT, ECHO);

/** A stateful filter; sequences may be split across chunks. */
export class TelnetFilter {
  #state: State = State.Data;
  #verb = 0;
  /** Options the server offered (WILL); the peer's DO/DONT for them is an answer, not a request. */
  readonly #offered = new Set<number>();

  /**
   * Offers or withdraws echoing: returns the bytes to send. While offered, the
   * peer's `DO ECHO` is taken as agreement (answering it with WONT would turn
   * its local echo back on).
   */
  echo(on: boolean): Uint8Array {
    if (on) this.#offered.add(ECHO);
    else this.#offered.delete(ECHO);
    return on ? WILL_ECHO : WONT_ECHO;
  }

  /** Removes negotiation from `chunk` and says how to refuse what was asked. */
  push(chunk: Uint8Array): TelnetResult {
    if (this.#state === State.Data && chunk.indexOf(IAC) < 0) return { data: chunk, reply: null };
    const data: number[] = [];
    const reply: number[] = [];
    for (const byte of chunk) {
      switch (this.#state) {
        case State.Data:
          if (byte === IAC) this.#state = State.Iac;
          else data.push(byte);
          break;
        case State.Iac:
          if (byte === IAC) {
            // An escaped 0xFF data byte; it is not valid UTF-8, so the line will be refused later.
            data.push(byte);
            this.#state = State.Data;
          } else if (byte >= WILL && byte <= DONT) {
            this.#verb = byte;
            this.#state = State.Option;
          } else if (byte === SB) {
            this.#state = State.Sub;
          } else {
            // Two-byte commands (IP, AO, AYT, BRK, NOP, ...): nothing to answer.
            this.#state = State.Data;
          }
          break;
        case State.Option:
          if (this.#offered.has(byte) && (this.#verb === DO || this.#verb === DONT)) {
            // The answer to our own offer: loops would follow from answering it.
            if (this.#verb === DONT) this.#offered.delete(byte);
          } else if (this.#verb === DO) reply.push(IAC, WONT, byte);
          else if (this.#verb === WILL) reply.push(IAC, DONT, byte);
          this.#state = State.Data;
          break;
        case State.Sub:
          if (byte === IAC) this.#state = State.SubIac;
          break;
        case State.SubIac:
          this.#state = byte === SE ? State.Data : State.Sub;
          break;
      }
    }
    return { data: Uint8Array.from(data), reply: reply.length ? Uint8Array.from(reply) : null };
  }
}
