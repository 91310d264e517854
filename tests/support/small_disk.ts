/**
 * A small tmpfs that a test can fill, for full-disk cases: mounted when the
 * test process may mount (root), unmounted and removed after the file's tests.
 */
import { afterAll } from "bun:test";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A mounted tmpfs (or `mounted: false` where mounting is not allowed). */
export interface SmallDisk {
  /** The mount point. */
  path: string;
  mounted: boolean;
}

/**
 * Mounts a tmpfs of `size` (e.g. "16m") named `name`; prints why the tests
 * are skipped when it cannot. Call at the top level of a test file.
 */
export function mountSmallDisk(name: string, size: string): SmallDisk {
  const root = mkdtempSync(join(tmpdir(), `${name}-`));
  const path = join(root, "mnt");
  mkdirSync(path);
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, name, path]).status === 0;
  if (!mounted) console.warn(`note: cannot mount a tmpfs here (needs root); ${name} is skipped`);
  afterAll(() => {
    if (mounted) spawnSync("umount", ["-l", path]);
    rmSync(root, { recursive: true, force: true });
  });
  return { path, mounted };
}

/** Writes to `file` until its file system is full (ENOSPC). */
export function fillDisk(file: string): void {
  const fd = openSync(file, "w");
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full.
  } finally {
    closeSync(fd);
  }
}
