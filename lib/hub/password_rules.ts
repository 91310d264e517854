/**
 * What makes a new password acceptable, shared by `register`/`passwd` and the
 * offline account commands: at least `minLength` characters (code points),
 * and not the account's own name (compared as nicks are).
 *
 * @module
 */
import { nickKey } from "../protocol/names.ts";

/** Why `password` is too weak for account `name` (a sentence for `weak_password`), or undefined when it will do. */
export function passwordProblem(password: string, name: string, minLength: number): string | undefined {
  if ([...password].length < minLength) return `a password needs at least ${minLength} characters`;
  if (nickKey(password) === nickKey(name)) return "a password must not be the nick";
  return undefined;
}
