/**
 * A second SQLite connection on its own thread: a worker that opens the
 * database file at `path` and runs the statements it is sent, one at a time,
 * answering each with its first row. The store uses it for WAL checkpoints,
 * whose fsyncs would otherwise stall the event loop inside a commit.
 *
 * The worker's source is inline (a string), so it works the same from the
 * sources, in the `bun build --compile` executable and in the single-file
 * Node bundle, with no second file to ship:
 * - Bun and Deno: a Web Worker from a blob URL, a module that imports
 *   `bun:sqlite` or `node:sqlite`;
 * - Node: `node:worker_threads` with `eval`, a script that requires `node:sqlite`.
 *
 * `close` is synchronous (the store closes synchronously): it asks the worker
 * to close its connection and waits for it on a shared flag (Atomics.wait,
 * bounded), then ends the thread.
 *
 * @module
 */

/** A statement's first row as the worker saw it, and how long it took. */
export interface SqliteWorkerAnswer {
  /** The first row (or null); column names as SQLite gives them. */
  row: Record<string, unknown> | null;
  /** Time the statement took in the worker, milliseconds. */
  ms: number;
}

/** The worker thread is gone (it failed, or was closed): no query will be answered again. */
export class SqliteWorkerGone extends Error {}

/** A database connection on another thread. */
export interface SqliteWorker {
  /** Runs `sql` in the worker; rejects with SQLite's error, or {@linkcode SqliteWorkerGone}. */
  query(sql: string): Promise<SqliteWorkerAnswer>;
  /** Closes the worker's connection (waiting up to `waitMs` for it) and ends the thread. Idempotent. */
  close(waitMs?: number): void;
}

/** The worker's body, shared by both sources. `open(path)` returns {get(sql)}, `post` answers, `onMessage` installs the handler. */
const CORE = `
function core(openDb, post, onMessage, flag, path, setup) {
  let db = null, failed = null;
  const waiting = [];
  const run = (m) => {
    if (m.close) {
      try { if (db) db.close(); } catch (e) {}
      db = null;
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      return;
    }
    if (failed !== null) return post({ id: m.id, error: failed });
    const t0 = performance.now();
    try {
      const row = db.get(m.sql);
      post({ id: m.id, row: row == null ? null : row, ms: performance.now() - t0 });
    } catch (e) {
      post({ id: m.id, error: String((e && e.message) || e) });
    }
  };
  onMessage((m) => { if (db === null && failed === null && !m.close) waiting.push(m); else run(m); });
  openDb(path).then((d) => {
    db = d;
    try { for (const s of setup) db.get(s); } catch (e) { failed = String((e && e.message) || e); }
  }, (e) => { failed = String((e && e.message) || e); }).finally(() => {
    for (const m of waiting.splice(0)) run(m);
  });
}
`;

/** Bun and Deno: a module worker (`self`, dynamic import). */
const WEB_SOURCE = CORE + `
const isBun = typeof Bun !== "undefined" && typeof Deno === "undefined";
async function openDb(path) {
  if (isBun) {
    const { Database } = await import("bun:sqlite");
    const db = new Database(path);
    return { get: (sql) => db.prepare(sql).get(), close: () => db.close() };
  }
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path);
  return { get: (sql) => db.prepare(sql).get(), close: () => db.close() };
}
self.onmessage = (e) => {
  const { path, setup, flag } = e.data;
  let handler = null;
  self.onmessage = (e2) => handler(e2.data);
  core(openDb, (m) => self.postMessage(m), (h) => { handler = h; }, new Int32Array(flag), path, setup);
};
`;

/** Node: a CommonJS script under worker_threads. */
const NODE_SOURCE = CORE + `
const { parentPort, workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
core(
  async (path) => { const db = new DatabaseSync(path); return { get: (sql) => db.prepare(sql).get(), close: () => db.close() }; },
  (m) => parentPort.postMessage(m),
  (h) => parentPort.on("message", h),
  new Int32Array(workerData.flag), workerData.path, workerData.setup,
);
`;

interface Reply {
  id: number;
  row?: Record<string, unknown> | null;
  ms?: number;
  error?: string;
}

/** The minimal shape of a worker both APIs offer. */
interface Thread {
  post(message: unknown): void;
  /** Whether the thread keeps the process alive (while a query waits for its answer). */
  hold(on: boolean): void;
  terminate(): void;
}

/**
 * Starts a worker with its own connection to the database at `path`,
 * running each statement of `setup` first (for example `PRAGMA
 * synchronous = NORMAL`). Throws if this runtime cannot start one; a
 * failure to open the database inside the worker rejects every query.
 */
export async function openSqliteWorker(path: string, setup: readonly string[] = []): Promise<SqliteWorker> {
  const flag = new SharedArrayBuffer(4);
  const pending = new Map<number, { resolve: (a: SqliteWorkerAnswer) => void; reject: (e: Error) => void }>();
  const onReply = (reply: Reply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (pending.size === 0) thread.hold(false);
    if (reply.error !== undefined) waiter.reject(new Error(reply.error));
    else waiter.resolve({ row: reply.row ?? null, ms: reply.ms ?? 0 });
  };
  // A thread that dies answers nothing more: fail what waits and what comes.
  let died: string | undefined;
  const onDeath = (message: string) => {
    died = message;
    for (const waiter of pending.values()) waiter.reject(new SqliteWorkerGone(message));
    pending.clear();
  };
  const thread = "Bun" in globalThis || "Deno" in globalThis
    ? startWeb(flag, path, setup, onReply, onDeath)
    : await startNode(flag, path, setup, onReply, onDeath);
  let nextId = 1;
  let closed = false;
  return {
    query(sql) {
      if (closed) return Promise.reject(new SqliteWorkerGone("the SQLite worker is closed"));
      if (died !== undefined) return Promise.reject(new SqliteWorkerGone(died));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        if (pending.size === 0) thread.hold(true);
        pending.set(id, { resolve, reject });
        thread.post({ id, sql });
      });
    },
    close(waitMs = 2000) {
      if (closed) return;
      closed = true;
      thread.post({ close: true });
      // Wait for the worker to close its connection, so its file handles are gone when the store's close returns.
      Atomics.wait(new Int32Array(flag), 0, 0, waitMs);
      thread.terminate();
      for (const waiter of pending.values()) waiter.reject(new SqliteWorkerGone("the SQLite worker is closed"));
      pending.clear();
    },
  };
}

function startWeb(
  flag: SharedArrayBuffer,
  path: string,
  setup: readonly string[],
  onReply: (r: Reply) => void,
  onDeath: (message: string) => void,
): Thread {
  const url = URL.createObjectURL(new Blob([WEB_SOURCE], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  worker.onmessage = (e: MessageEvent<Reply>) => onReply(e.data);
  const handle = worker as unknown as { ref?: () => void; unref?: () => void };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault?.();
    onDeath(`the SQLite worker failed: ${e.message}`);
  };
  // Bun's workers keep the process alive unless unref'd (Deno's have no such switch).
  handle.unref?.();
  worker.postMessage({ path, setup, flag });
  return {
    post: (m) => worker.postMessage(m),
    hold: (on) => on ? handle.ref?.() : handle.unref?.(),
    terminate: () => {
      worker.terminate();
      // Not earlier: Bun loads the worker's source from the URL after the constructor returns.
      URL.revokeObjectURL(url);
    },
  };
}

async function startNode(
  flag: SharedArrayBuffer,
  path: string,
  setup: readonly string[],
  onReply: (r: Reply) => void,
  onDeath: (message: string) => void,
): Promise<Thread> {
  const specifier = "node:worker_threads";
  const { Worker: NodeWorker } = await import(specifier);
  const worker = new NodeWorker(NODE_SOURCE, { eval: true, workerData: { flag, path, setup } });
  worker.on("message", onReply);
  worker.on("error", (e: Error) => onDeath(`the SQLite worker failed: ${e.message}`));
  worker.unref();
  return {
    post: (m) => worker.postMessage(m),
    hold: (on) => on ? worker.ref() : worker.unref(),
    terminate: () => void worker.terminate(),
  };
}
