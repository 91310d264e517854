/**
 * A command-line mistake: printed with the usage, exit code 2.
 *
 * @module
 */

/** Thrown for bad arguments; `main.ts` prints it and exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly usage?: string, readonly exitCode = 2) {
    super(message);
  }
}
