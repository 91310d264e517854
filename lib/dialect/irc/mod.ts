/**
 * The IRC dialect: detection, per-connection sessions, and the renderings
 * shared by the recipients of a broadcast.
 *
 * @module
 */
export { isIrcRegistrationLine } from "./detect.ts";
export { encodeLines, type IrcHost, type IrcLookup, type IrcRenderCache, IrcSession } from "./session.ts";
export { renderEvent } from "./render.ts";
