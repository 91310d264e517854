/**
 * Accounts (protocol section 8): logging in with `hello`/`nick` and a
 * password, `register`, `passwd` and `drop`. Password work runs in the
 * hasher, off the event loop; its answer comes back through
 * {@linkcode HubCore.defer}, which holds the session's later frames until
 * then, so a client sees answers in the order it asked.
 *
 * Passwords are passed to the hasher and nowhere else: no error message,
 * audit event or log line carries one.
 *
 * @module
 */
import type { ClientFrameOf } from "../protocol/client_frames.ts";
import { nickKey, nickProblem } from "../protocol/names.ts";
import { serviceHolding } from "../protocol/service_nicks.ts";
import { withId } from "../protocol/server_frames.ts";
import type { AccountRecord } from "../store/account_store.ts";
import { GuessLimiter, type GuessTicket } from "./guess_limiter.ts";
import type { HubCore } from "./hub_services.ts";
import { HasherBusyError } from "./password_hasher.ts";
import { passwordProblem } from "./password_rules.ts";
import type { AccountRef } from "./room_modes.ts";
import type { Session } from "./session.ts";

/** Account handling for one hub. */
export class AccountDesk<P> {
  readonly #limiter = new GuessLimiter();

  constructor(readonly hub: HubCore<P>) {}

  /**
   * Checks that `session` may take `nick`: a nick that is an account needs its
   * password. Calls `done` with the account to log in to (null for a guest
   * nick), or answers the error itself.
   */
  authenticate(
    session: Session<P>,
    nick: string,
    password: string | undefined,
    id: string | undefined,
    now: number,
    done: (account: AccountRef | null, now: number) => void,
  ): void {
    const problem = nickProblem(nick);
    if (problem) return this.hub.error(session, "nick_invalid", problem, id);
    const key = nickKey(nick);
    const service = serviceHolding(nick, key);
    if (service) return this.hub.error(session, "nick_taken", `${nick} is held by the ${service} service`, id);
    const holder = this.hub.sessionByNick(nick);
    if (holder && holder !== session) return this.hub.error(session, "nick_taken", `${nick} is already in use`, id);
    // A logged-in user changing the case of its own nick needs no password.
    if (session.account?.key === key) return done(session.account, now);
    this.hub.defer(session, this.hub.services.accounts.get(key), now, (account, now) => {
      if (!account) return done(null, now);
      if (password === undefined || password === "") {
        return this.hub.error(session, "nick_reserved", `${account.name} is a registered account: give its password`, id);
      }
      this.#check(session, account, password, id, now, "login", () => done({ key, name: account.name }, this.hub.services.now()));
    }, (error, now) => this.#failed(session, error, id, now));
  }

  /**
   * Checks `password` for the account `name` (which need not be the
   * session's nick) under the same guessing limit as `hello`, then calls
   * `done` with it; answers failures itself (`unauthorized` for a wrong
   * password or an account that does not exist). For IRC SASL, NickServ
   * IDENTIFY and OPER, which name an account apart from the nick.
   */
  login(
    session: Session<P>,
    name: string,
    password: string,
    id: string | undefined,
    now: number,
    done: (account: AccountRef) => void,
  ): void {
    if (nickProblem(name)) return this.hub.error(session, "unauthorized", `there is no account ${name}`, id);
    const key = nickKey(name);
    this.hub.defer(session, this.hub.services.accounts.get(key), now, (account, now) => {
      if (!account) return this.hub.error(session, "unauthorized", `there is no account ${name}`, id);
      this.#check(session, account, password, id, now, "login", () => done({ key, name: account.name }));
    }, (error, now) => this.#failed(session, error, id, now));
  }

  /** `register`: makes the session's nick an account and logs it in. */
  register(session: Session<P>, frame: ClientFrameOf<"register">, now: number): void {
    const { settings } = this.hub;
    if (settings.registration === "closed") {
      return this.hub.error(session, "registration_closed", "this server does not take new accounts", frame.id);
    }
    const nick = session.nick!;
    if (session.account !== null) {
      return this.hub.error(session, "account_exists", `you are already logged in as ${session.account.name}`, frame.id);
    }
    if (!this.#strongEnough(session, frame.password, nick, frame.id, "password")) return;
    const key = session.nickKey!;
    this.hub.defer(session, this.hub.services.accounts.get(key), now, (existing, now) => {
      if (existing) return this.hub.error(session, "account_exists", `${existing.name} is already registered`, frame.id);
      this.hub.defer(session, this.hub.services.hasher.hash(frame.password), now, (password, now) => {
        const record: AccountRecord = { key, name: nick, password, created: now };
        if (frame.email !== undefined) record.email = frame.email;
        this.hub.defer(session, this.hub.services.accounts.create(record), now, (created) => {
          if (!created) return this.hub.error(session, "account_exists", `${nick} is already registered`, frame.id);
          session.account = { key, name: nick };
          this.#promoteSessionOps(session);
          this.hub.accountChanged(session);
          this.hub.audit({ action: "register", by: nick, target: nick }, session);
          this.hub.sink.send(session, withId({ type: "account", account: nick, change: "registered" }, frame.id));
        }, (error, now) => this.#failed(session, error, frame.id, now));
      }, (error, now) => this.#failed(session, error, frame.id, now));
    }, (error, now) => this.#failed(session, error, frame.id, now));
  }

  /** `passwd`: changes the logged-in account's password, given the current one. */
  passwd(session: Session<P>, frame: ClientFrameOf<"passwd">, now: number): void {
    const ref = this.#loggedIn(session, frame.id);
    if (!ref) return;
    if (!this.#strongEnough(session, frame.new_password, ref.name, frame.id, "new_password")) return;
    this.#withAccount(session, ref, frame.id, now, (account, now) => {
      this.#check(session, account, frame.password, frame.id, now, "passwd", () => {
        this.hub.defer(session, this.hub.services.hasher.hash(frame.new_password), this.hub.services.now(), (password, now) => {
          this.hub.defer(session, this.hub.services.accounts.setPassword(ref.key, password), now, () => {
            this.hub.audit({ action: "passwd", by: session.nick!, target: ref.name }, session);
            this.hub.sink.send(session, withId({ type: "account", account: ref.name, change: "password" }, frame.id));
          }, (error, now) => this.#failed(session, error, frame.id, now));
        }, (error, now) => this.#failed(session, error, frame.id, now));
      });
    });
  }

  /** `drop`: deletes the logged-in account; the session stays, as a guest. */
  drop(session: Session<P>, frame: ClientFrameOf<"drop">, now: number): void {
    const ref = this.#loggedIn(session, frame.id);
    if (!ref) return;
    this.#withAccount(session, ref, frame.id, now, (account, now) => {
      this.#check(session, account, frame.password, frame.id, now, "drop", () => {
        this.hub.defer(session, this.hub.services.accounts.delete(ref.key), this.hub.services.now(), () => {
          // Its rooms must not keep an operator that anyone could now register.
          for (const room of this.hub.allRooms()) room.moderation.accountOps.delete(ref.key);
          void this.hub.services.roomStates.forgetOperator(ref.name);
          session.account = null;
          this.hub.accountChanged(session);
          this.hub.audit({ action: "drop", by: session.nick!, target: ref.name }, session);
          this.hub.sink.send(session, withId({ type: "account", account: ref.name, change: "dropped" }, frame.id));
        }, (error, now) => this.#failed(session, error, frame.id, now));
      });
    });
  }

  /** Verifies `password` against `account` under the guessing limit, then runs `right`; answers failures itself. */
  #check(
    session: Session<P>,
    account: AccountRecord,
    password: string,
    id: string | undefined,
    now: number,
    action: string,
    right: () => void,
  ): void {
    const ticket = this.#limiter.begin(account.key, session.address, now);
    if ("retryAfterMs" in ticket) {
      this.hub.audit({ action: `${action}_throttled`, by: session.nick ?? "-", target: account.name, quiet: true }, session);
      return this.hub.error(session, "rate_limited", `too many wrong passwords; retry in ${ticket.retryAfterMs} ms`, id, {
        retry_after_ms: ticket.retryAfterMs,
      });
    }
    // Settled inside the promise, so a session that leaves before the answer still counts its guess.
    const verdict = this.hub.services.hasher.verify(password, account.password).then(
      (ok) => this.#settle(ticket, ok, session, account, action),
      (error) => {
        this.#limiter.settle(ticket, true);
        throw error;
      },
    );
    this.hub.defer(session, verdict, now, (ok) => {
      if (ok) return right();
      this.hub.error(session, "unauthorized", `wrong password for ${account.name}`, id);
    }, (error, now) => this.#failed(session, error, id, now));
  }

  #settle(ticket: GuessTicket, ok: boolean, session: Session<P>, account: AccountRecord, action: string): boolean {
    this.#limiter.settle(ticket, ok);
    this.hub.audit({ action: ok ? action : `${action}_failed`, by: session.nick ?? "-", target: account.name }, session);
    return ok;
  }

  #withAccount(
    session: Session<P>,
    ref: AccountRef,
    id: string | undefined,
    now: number,
    then: (account: AccountRecord, now: number) => void,
  ): void {
    this.hub.defer(session, this.hub.services.accounts.get(ref.key), now, (account, now) => {
      if (!account) {
        // Deleted meanwhile (by another session of the same account).
        session.account = null;
        return this.hub.error(session, "not_logged_in", `the account ${ref.name} no longer exists`, id);
      }
      then(account, now);
    }, (error, now) => this.#failed(session, error, id, now));
  }

  #loggedIn(session: Session<P>, id: string | undefined): AccountRef | null {
    if (session.account === null) this.hub.error(session, "not_logged_in", "log in first (hello or nick with a password)", id);
    return session.account;
  }

  /** The password rules (see password_rules.ts); answers `weak_password` itself. */
  #strongEnough(session: Session<P>, password: string, nick: string, id: string | undefined, field: string): boolean {
    const problem = passwordProblem(password, nick, this.hub.settings.password_min_length);
    if (problem) this.hub.error(session, "weak_password", problem, id, { field });
    return problem === undefined;
  }

  /** A guest who registers keeps the rooms it operated, now as their account operator. */
  #promoteSessionOps(session: Session<P>): void {
    const account = session.account!;
    for (const room of session.rooms) {
      if (!room.moderation.sessionOps.delete(session)) continue;
      room.moderation.accountOps.set(account.key, account.name);
      void this.hub.services.roomStates.setOperator(room.name, account.name, true);
    }
  }

  #failed(session: Session<P>, error: unknown, id: string | undefined, _now: number): void {
    if (error instanceof HasherBusyError) {
      return this.hub.error(session, "rate_limited", "the server is busy checking passwords; try again", id, {
        retry_after_ms: error.retryAfterMs,
      });
    }
    this.hub.audit({ action: "account_error", by: session.nick ?? "-", reason: String((error as Error)?.message ?? error) }, session);
    this.hub.error(session, "unavailable", "accounts are unavailable right now; try again later", id);
  }
}
