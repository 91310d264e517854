/**
 * Counters the server keeps about itself: every disconnect by reason, frames,
 * timeouts. The metrics endpoint and tests read them.
 *
 * @module
 */

/** Server-wide counters. */
export class ServerStats {
  connectionsAccepted = 0;
  framesOut = 0;
  heartbeatTimeouts = 0;
  /** Disconnects by reason (quit, timeout, slow_consumer, flood, reset, ...). */
  readonly disconnects = new Map<string, number>();

  /** Counts one disconnect. */
  countDisconnect(reason: string): void {
    this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
  }
}
