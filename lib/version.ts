/**
 * The version shown by `--version` and sent in `welcome`. The release build
 * replaces `BUILD_COMMIT` with the git commit it was built from.
 *
 * @module
 */
import pkg from "../package.json" with { type: "json" };

/** The package version, e.g. `0.1.0`. */
export const VERSION: string = pkg.version;

declare const BUILD_COMMIT: string | undefined;

/** The git commit baked in by the release build, or `dev` when run from source. */
export const COMMIT: string = typeof BUILD_COMMIT === "string" ? BUILD_COMMIT : "dev";
