/**
 * The few file-system calls the store layer makes in its data directory:
 * create it, and keep or drop the disk-space reserve file. `node:fs` is
 * available under Bun, Deno and Node alike (Deno needs `--allow-read` and
 * `--allow-write`).
 *
 * @module
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";

/** Creates `dir` and its parents if missing. Throws the system's error. */
export function makeDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/**
 * Writes `bytes` zero bytes to `path` (replacing it), so that the space is
 * really taken on disk. Throws (and removes the partial file) when the disk
 * cannot hold it.
 */
export function writeFilledFile(path: string, bytes: number): void {
  const chunk = new Uint8Array(Math.min(bytes, 64 * 1024));
  let fd: number | undefined;
  try {
    fd = openSync(path, "w");
    for (let written = 0; written < bytes;) written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
    closeSync(fd);
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch { /* already closed */ }
    }
    removeFile(path);
    throw error;
  }
}

/** Removes `path` if it exists. */
export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

/** Whether something exists at `path`. */
export function pathExists(path: string): boolean {
  return existsSync(path);
}
