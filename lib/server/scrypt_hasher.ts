/**
 * Password hashing with scrypt through `node:crypto`, which Bun, Deno and
 * Node all implement off the main thread, so a storm of logins does not stall
 * chat. Work is bounded twice: at most `maxConcurrent` hashes run at once
 * (each holds 128·N·r bytes, 16 MiB at the default cost; by default one core
 * fewer than the machine has, see {@linkcode defaultHashConcurrency}), and at most
 * `maxQueued` wait; past that a request is refused at once with
 * {@linkcode HasherBusyError}, so memory never grows with the number of
 * people trying to log in.
 *
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import * as os from "node:os";
import { HasherBusyError, type PasswordHasher } from "../hub/password_hasher.ts";
import type { PasswordRecord } from "../store/account_store.ts";

/** Cost and queue bounds. */
export interface ScryptOptions {
  /** CPU/memory cost, a power of two (default 16384: about 50 ms and 16 MiB per hash). */
  N?: number;
  r?: number;
  p?: number;
  /** Hashes computed at once (default {@linkcode defaultHashConcurrency} of this machine's cores). */
  maxConcurrent?: number;
  /** Requests waiting beyond those (default 64). */
  maxQueued?: number;
}

/** Most hashes at once by default, whatever the cores: 8 × 16 MiB bounds the memory logins can take. */
export const MAX_DEFAULT_HASH_CONCURRENCY = 8;

/**
 * How many hashes run at once by default on a machine with `cores` cores:
 * one fewer than the cores, so a storm of logins always leaves one core to
 * the chat (on 2 cores, 2 hashes at once took both and chat p99 suffered),
 * at least 1, and at most {@linkcode MAX_DEFAULT_HASH_CONCURRENCY}.
 */
export function defaultHashConcurrency(cores: number): number {
  const usable = Number.isFinite(cores) ? Math.floor(cores) : 1;
  return Math.min(MAX_DEFAULT_HASH_CONCURRENCY, Math.max(1, usable - 1));
}

/** The cores this process may use (`os.availableParallelism`, which Bun, Deno and Node provide). */
function machineCores(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

const KEY_BYTES = 32;
const SALT_BYTES = 16;

interface Job {
  password: string;
  salt: Uint8Array;
  N: number;
  r: number;
  p: number;
  resolve(key: Uint8Array): void;
  reject(error: unknown): void;
}

/** {@linkcode PasswordHasher} over scrypt with a bounded queue. */
export class ScryptHasher implements PasswordHasher {
  readonly #N: number;
  readonly #r: number;
  readonly #p: number;
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #queue: Job[] = [];
  #running = 0;
  /** Recent time per hash (ms), to tell a refused caller when to come back. */
  #avgMs = 50;

  constructor(options: ScryptOptions = {}) {
    this.#N = options.N ?? 16384;
    this.#r = options.r ?? 8;
    this.#p = options.p ?? 1;
    this.#maxConcurrent = options.maxConcurrent ?? defaultHashConcurrency(machineCores());
    this.#maxQueued = options.maxQueued ?? 64;
  }

  /** Hashes computed at once. */
  get maxConcurrent(): number {
    return this.#maxConcurrent;
  }

  /** Hashes running or waiting now. */
  get load(): number {
    return this.#running + this.#queue.length;
  }

  /** PasswordHasher. */
  async hash(password: string): Promise<PasswordRecord> {
    const salt = randomBytes(SALT_BYTES);
    const key = await this.#derive(password, salt, this.#N, this.#r, this.#p);
    return {
      algo: "scrypt",
      N: this.#N,
      r: this.#r,
      p: this.#p,
      salt: toBase64(salt),
      hash: toBase64(key),
    };
  }

  /** PasswordHasher: with the record's own parameters, so raising the cost keeps old hashes working. */
  async verify(password: string, record: PasswordRecord): Promise<boolean> {
    const expected = fromBase64(record.hash);
    const key = await this.#derive(password, fromBase64(record.salt), record.N, record.r, record.p);
    return key.length === expected.length && timingSafeEqual(key, expected);
  }

  #derive(password: string, salt: Uint8Array, N: number, r: number, p: number): Promise<Uint8Array> {
    if (this.load >= this.#maxConcurrent + this.#maxQueued) {
      const waves = Math.ceil(this.load / this.#maxConcurrent);
      return Promise.reject(new HasherBusyError(Math.max(100, Math.round(waves * this.#avgMs))));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ password, salt, N, r, p, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#running < this.#maxConcurrent && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running++;
      const startedAt = performance.now();
      // maxmem: scrypt needs 128·N·r bytes; leave room for its own bookkeeping.
      scrypt(job.password, job.salt, KEY_BYTES, { N: job.N, r: job.r, p: job.p, maxmem: 256 * job.N * job.r + 1024 * 1024 }, (error, key) => {
        this.#running--;
        this.#avgMs = this.#avgMs * 0.8 + (performance.now() - startedAt) * 0.2;
        if (error) job.reject(error);
        else job.resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
        this.#pump();
      });
    }
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
