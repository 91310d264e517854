/**
 * The lone-surrogate check every client string goes through.
 *
 * JSON's `\ud800` escapes can spell a lone surrogate, which is no character:
 * stored and re-sent, it would make strict JSON parsers (and UTF-8 encoders)
 * of every receiver choke; hashed as a password, it would turn into U+FFFD
 * and collide with other passwords.
 *
 * @module
 */
import * as v from "valibot";

/** A valibot check refusing strings with a lone surrogate, naming the field. */
export const wellFormed = (name: string) =>
  v.check((raw: string) => raw.isWellFormed(), `${name} holds a lone surrogate, which is not a character`);
