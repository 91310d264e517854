/**
 * {@linkcode FrameLink} over TCP through the runtime layer: frames are lines.
 *
 * @module
 */
import { LineSplitter } from "../protocol/line_splitter.ts";
import type { Conn, Runtime } from "../runtime/types.ts";
import type { Dialer, FrameLink } from "./link.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Server lines can be large (a room snapshot with history); this only guards against nonsense. */
const MAX_SERVER_LINE_BYTES = 64 * 1024 * 1024;

class TcpLink implements FrameLink {
  readonly closed: Promise<string>;

  constructor(readonly conn: Conn) {
    this.closed = conn.closed.then((reason) => (typeof reason === "string" ? reason : reason.message));
  }

  start(onFrame: (text: string) => void): void {
    void this.#readLoop(onFrame);
  }

  async #readLoop(onFrame: (text: string) => void): Promise<void> {
    const splitter = new LineSplitter(MAX_SERVER_LINE_BYTES);
    const handler = { onLine: (bytes: Uint8Array) => onFrame(decoder.decode(bytes)), onTooLarge: () => {} };
    try {
      for await (const chunk of this.conn.readable) splitter.push(chunk, handler);
    } catch {
      // Reported through `closed`.
    }
    this.conn.close();
  }

  send(text: string): void {
    this.conn.write(encoder.encode(text + "\n")).catch(() => {});
  }

  close(): void {
    this.conn.close();
  }
}

/** TLS options for {@linkcode tcpDialer}: `ca` (PEM text) trusted instead of the system roots, or `insecure` (no checks). */
export interface TcpLinkTls {
  ca?: string;
  insecure?: boolean;
  serverName?: string;
}

/** Dials `host:port` over TCP, or over TLS when `tls` is given. */
export function tcpDialer(runtime: Runtime, host: string, port: number, tls?: TcpLinkTls): Dialer {
  return async () => {
    const target = { hostname: host, port };
    const conn = tls ? await runtime.connectTls({ ...target, ...tls }) : await runtime.connect(target);
    conn.setNoDelay(true);
    return new TcpLink(conn);
  };
}
