/**
 * The client library's one view of a connection: JSON frames as text, in and
 * out. {@linkcode ChatClient} keeps its logic (requests, heartbeat, resume)
 * above this, so the same code runs over TCP (`tcp_link.ts`, for `tcpchat
 * connect`) and over WebSocket (`ws_link.ts`, for the browser client).
 *
 * @module
 */

/** One open connection to the server. */
export interface FrameLink {
  /** Starts delivering server frames (each one JSON text, no newline) to `onFrame`; call once. */
  start(onFrame: (text: string) => void): void;
  /** Sends one client frame (JSON text, no newline). Never throws; a dead link just drops it. */
  send(text: string): void;
  /** Closes the link. Idempotent. */
  close(): void;
  /** Settles once the link is closed, with a short reason. Never rejects. */
  readonly closed: Promise<string>;
}

/** Opens a new link to the server; rejects with a clear error when it cannot. */
export type Dialer = () => Promise<FrameLink>;
