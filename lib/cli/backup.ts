/**
 * `tcpchat backup --data-dir DIR FILE`: a consistent copy of a data
 * directory's database, safe while the server runs.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import { backupDataDir } from "../store/backup.ts";
import { StoreOpenError } from "../store/data_dir.ts";
import { parseCommandArgs } from "./args.ts";
import { CliError } from "./cli_error.ts";

/** Usage text for `tcpchat backup`. */
export function backupUsage(): string {
  return [
    "Usage: tcpchat backup [--data-dir DIR] FILE",
    "",
    "Writes a consistent copy of the data directory's database to FILE (which must",
    "not exist), also while a server is running on DIR. To restore: stop the server,",
    "remove DIR/tcpchat.db, DIR/tcpchat.db-wal and DIR/tcpchat.db-shm, copy FILE to",
    "DIR/tcpchat.db, start the server.",
    "",
    "Options:",
    "  --data-dir DIR   the server's data directory [TCPCHAT_DATA_DIR, else tcpchat-data]",
  ].join("\n");
}

/** Runs `tcpchat backup`; resolves with the exit code. */
export async function backupCommand(runtime: Runtime, args: string[]): Promise<number> {
  const usage = backupUsage();
  const { values, positionals } = parseCommandArgs(args, { "data-dir": { type: "string" } }, usage);
  if (positionals.length !== 1) throw new CliError(positionals.length === 0 ? "missing FILE" : `unexpected argument ${positionals[1]}`, usage);
  const dir = (values["data-dir"] as string | undefined) ?? runtime.env("TCPCHAT_DATA_DIR") ?? "tcpchat-data";
  if (dir === "") throw new CliError("--data-dir is empty: a memory-only server has nothing to back up", usage);
  try {
    const { rooms, messages } = await backupDataDir(dir, positionals[0]);
    console.log(`backed up ${dir} to ${positionals[0]}: ${rooms} rooms, ${messages} messages`);
    return 0;
  } catch (error) {
    if (error instanceof StoreOpenError) throw new CliError(error.message, undefined, 1);
    throw error;
  }
}
