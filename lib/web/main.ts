/// <reference lib="dom" />
/**
 * The browser client's entry (bundled into `/app.js`): signs in over
 * WebSocket with the same {@linkcode ChatClient} as `tcpchat connect` (so
 * reconnect, resume with `since` and room epochs behave exactly alike), and
 * wires the page's forms and buttons to it.
 *
 * @module
 */
import { ChatClient, ChatError } from "../client/chat_client.ts";
import { wsDialer } from "../client/ws_link.ts";
import type { ClientFrame } from "../protocol/client_frames.ts";
import { HELP, parseInput } from "./input.ts";
import { ChatModel, dmKey, roomKey } from "./model.ts";
import { byId, ChatView } from "./view.ts";

const NICK_STORAGE_KEY = "tcpchat.nick";

const model = new ChatModel();
let client: ChatClient | null = null;
let away = false;
const view = new ChatView(model, select, (nick) => {
  model.open(dmKey(nick));
  select(dmKey(nick));
  byId("text").focus();
}, (action, nick) => {
  const current = currentRoom();
  if (!client || !current) return;
  const chat = client;
  void attempt(() => action === "kick" ? chat.kick(current, nick) : chat.ban(current, nick));
});

/** The room on screen, if a room is. */
function currentRoom(): string | null {
  const current = model.current === null ? undefined : model.conversations.get(model.current);
  return current?.kind === "room" && !current.gone ? current.name : null;
}

function select(key: string): void {
  model.select(key);
  view.render();
}

function setStatus(text: string): void {
  byId("status").textContent = text;
}

/** A readable line for a failed request. */
function problem(error: unknown): string {
  return error instanceof ChatError ? `${error.code}: ${error.message.replace(`${error.code}: `, "")}` : String(error);
}

/** Runs a request; its failure becomes a line in the conversation. */
async function attempt(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    model.notice(`! ${problem(error)}`, Date.now());
    view.render();
  }
}

/** Refreshes the presence of a room's members. */
function refreshMembers(room: string): void {
  void client?.who(room).then((who) => {
    model.onWho(who);
    view.render();
  }).catch(() => {});
}

function wire(chat: ChatClient): void {
  const now = Date.now;
  const update = () => view.render();
  chat.on("room", (frame) => {
    model.onRoom(frame);
    update();
    refreshMembers(frame.room);
  });
  chat.on("msg", (msg) => (model.onMsg(msg), update()));
  chat.on("dm", (dm) => (model.onDm(dm), update()));
  chat.on("join", (frame) => (model.onJoin(frame, now()), update()));
  chat.on("leave", (frame) => (model.onLeave(frame, now()), update()));
  chat.on("left", (frame) => (model.close(roomKey(frame.room)), update()));
  chat.on("presence", (frame) => (model.onPresence(frame, now()), update()));
  chat.on("crowd", (frame) => (model.onCrowd(frame, now()), update()));
  chat.on("nick", (frame) => {
    model.onNick(frame, now());
    setStatus(signedInAs());
    update();
  });
  chat.on("topic", (frame) => (model.onTopic(frame), update()));
  chat.on("mode", (frame) => (model.onMode(frame, now()), update()));
  chat.on("role", (frame) => {
    model.onRole(frame, now());
    update();
    refreshMembers(frame.room);
  });
  chat.on("invite", (frame) => {
    if (frame.from !== model.nick) model.notice(`${frame.from} invited you to #${frame.room} (/join ${frame.room})`, now());
    update();
  });
  chat.on("ban", (frame) => {
    const room = model.conversations.get(roomKey(frame.room));
    if (!room) return;
    model.notice(`${frame.by} ${frame.removed ? "lifted the ban on" : "banned"} ${frame.mask} in #${frame.room}`, now());
    update();
  });
  chat.on("bye", (frame) => {
    if (frame.reason === "killed") {
      model.notice("You were disconnected by a server operator (killed)", now());
      update();
    }
  });
  chat.on("error", (frame) => (model.notice(`! ${frame.code}: ${frame.message}`, now()), update()));
  chat.on("renamed", (change) => {
    model.nick = change.new;
    model.notice(`your nick was still held, so you are now ${change.new}`, now());
    update();
  });
  chat.on("state", ({ state, delayMs, attempt }) => {
    if (state === "online") setStatus(signedInAs());
    else if (state === "reconnecting") {
      setStatus(`Connection lost; reconnecting (attempt ${attempt}, in ${((delayMs ?? 0) / 1000).toFixed(1)} s)`);
    } else if (state === "closed") setStatus("Disconnected");
  });
  chat.on("welcome", ({ welcome, resumed }) => {
    model.nick = welcome.nick;
    if (resumed) {
      model.notice("reconnected", now());
      // The server forgot our presence with the old connection.
      if (away) void chat.setStatus("away").catch(() => {});
      update();
    }
  });
}

/** What a failed sign-in means to the person at the keyboard. */
function signInProblem(nick: string, failure: unknown, hadPassword: boolean): string {
  if (!(failure instanceof ChatError)) return `Cannot sign in: ${problem(failure)}`;
  switch (failure.code) {
    case "nick_taken":
      return `${nick} is taken: pick another nick`;
    case "nick_reserved":
      return `${nick} is a registered account: enter its password`;
    case "unauthorized":
      return hadPassword ? `Wrong password for ${nick}` : `${nick} is a registered account: enter its password`;
    case "rate_limited":
      return `Too many attempts: wait ${Math.ceil((failure.retryAfterMs ?? 1000) / 1000)} s and try again`;
    case "account_exists":
      return `${nick} is already an account: untick Register and sign in with its password`;
    case "weak_password":
      return `That password is too weak: ${problem(failure)}`;
    case "registration_closed":
      return "This server does not let people register";
    case "tls_required":
      return "This server takes passwords only over a secure connection (https)";
    default:
      return `Cannot sign in: ${problem(failure)}`;
  }
}

async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const nickInput = byId<HTMLInputElement>("nick");
  const passwordInput = byId<HTMLInputElement>("password");
  const registerBox = byId<HTMLInputElement>("register");
  const error = byId("signin-error");
  const nick = nickInput.value.trim();
  if (!nick) return;
  // The password lives only in this closure and in the client's memory (for reconnects):
  // it leaves the DOM at once and never goes to storage or a log.
  const password = passwordInput.value;
  passwordInput.value = "";
  const register = registerBox.checked;
  if (register && !password) {
    error.textContent = "Choose a password to register with";
    passwordInput.focus();
    return;
  }
  error.textContent = "";
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const chat = new ChatClient({
    dial: wsDialer(url.href),
    nick,
    client: "tcpchat-web",
    // Registering signs in as a guest first; the account is made right after.
    password: register || password === "" ? undefined : password,
  });
  wire(chat);
  try {
    await chat.connect();
    if (register) await chat.register(password);
  } catch (failure) {
    await chat.close().catch(() => {});
    error.textContent = signInProblem(nick, failure, password !== "");
    const code = failure instanceof ChatError ? failure.code : "";
    (["nick_reserved", "unauthorized", "weak_password"].includes(code) ? passwordInput : nickInput).focus();
    return;
  }
  client = chat;
  model.nick = chat.nick;
  try {
    localStorage.setItem(NICK_STORAGE_KEY, nick);
  } catch {
    // Storage may be off; remembering the nick is a nicety.
  }
  registerBox.checked = false;
  byId("signin").hidden = true;
  byId("chat").hidden = false;
  setStatus(signedInAs());
  if (register) model.notice(`registered: ${chat.account} is now an account; this page signs in again with it on reconnect`, Date.now());
  view.render();
  byId("text").focus();
}

/** The status line's words for who we are. */
function signedInAs(): string {
  return client?.account ? `Signed in as ${model.nick} (account)` : `Signed in as ${model.nick}`;
}

/** Pages in the messages before the oldest shown in the room on screen, once at a time. */
let loadingEarlier = false;
async function loadEarlier(): Promise<void> {
  const key = model.current;
  const conversation = key === null ? undefined : model.conversations.get(key);
  if (!client || loadingEarlier || !conversation || conversation.kind !== "room" || conversation.historyDone || conversation.gone) return;
  loadingEarlier = true;
  const chat = client;
  try {
    const before = model.oldestSeq(conversation.key);
    const page = await chat.history(conversation.name, before === undefined ? { limit: 50 } : { before, limit: 50 });
    model.onEarlier(page.room, page.msgs, page.more);
    view.render();
  } catch (failure) {
    model.notice(`! ${problem(failure)}`, Date.now());
    view.render();
  } finally {
    loadingEarlier = false;
  }
}

/** Runs an account or operator command typed in the compose box. */
async function runFrame(chat: ChatClient, frame: ClientFrame): Promise<void> {
  switch (frame.type) {
    // These carry passwords: through the library, which keeps the current one (memory only) for reconnects.
    case "register":
      await chat.register(frame.password);
      model.notice(`registered: ${chat.account} is now an account`, Date.now());
      break;
    case "passwd":
      await chat.passwd(frame.password, frame.new_password);
      model.notice("password changed", Date.now());
      break;
    case "drop":
      await chat.drop(frame.password);
      chat.usePassword(undefined);
      model.notice("account dropped: you are a guest now", Date.now());
      break;
    case "nick":
      await chat.changeNick(frame.nick, frame.password);
      break;
    case "bans": {
      const answer = await chat.bans(frame.room);
      if (answer.bans.length === 0) model.notice(`no bans in #${frame.room}`, Date.now());
      for (const ban of answer.bans) {
        model.notice(`ban ${ban.mask} by ${ban.by}${ban.reason ? `: ${ban.reason}` : ""}`, Date.now());
      }
      break;
    }
    case "invite":
      await chat.request(frame);
      model.notice(`invited ${frame.nick} to #${frame.room}`, Date.now());
      break;
    case "join": {
      const snapshot = (await chat.request(frame)) as { room: string };
      select(roomKey(snapshot.room));
      break;
    }
    default:
      await chat.request(frame);
  }
  setStatus(signedInAs());
  view.render();
}

/** Does what the compose box says. */
async function compose(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const input = byId<HTMLInputElement>("text");
  const line = input.value;
  if (!client || line.trim() === "") return;
  input.value = "";
  const chat = client;
  const current = model.current === null ? undefined : model.conversations.get(model.current);
  const action = parseInput(line, currentRoom());
  switch (action.kind) {
    case "say":
      if (!current) return model.notice("! join a room first (/join ROOM)", Date.now());
      return attempt(() => current.kind === "room" ? chat.send(current.name, action.text) : chat.dm(current.name, action.text));
    case "join":
      return attempt(async () => {
        const snapshot = await chat.join(action.room);
        select(roomKey(snapshot.room));
      });
    case "leave": {
      const room = action.room ?? (current?.kind === "room" ? current.name : null);
      if (room) return attempt(() => chat.leave(room));
      return;
    }
    case "dm":
      return attempt(async () => {
        await chat.dm(action.to, action.text);
        select(dmKey(action.to));
      });
    case "away":
      away = true;
      byId("away").textContent = "I'm back";
      return attempt(() => chat.setStatus("away", action.note));
    case "back":
      away = false;
      byId("away").textContent = "Set away";
      return attempt(() => chat.setStatus("online"));
    case "nick":
      return attempt(() => chat.changeNick(action.nick));
    case "frame":
      return attempt(() => runFrame(chat, action.frame));
    case "show_topic": {
      const topic = model.conversations.get(roomKey(action.room))?.topic;
      model.notice(topic ? `topic of #${action.room}: ${topic}` : `#${action.room} has no topic`, Date.now());
      return view.render();
    }
    case "help":
      for (const help of HELP) model.notice(help, Date.now());
      return view.render();
    case "error":
      model.notice(`! ${action.message}`, Date.now());
      return view.render();
  }
}

function start(): void {
  // On a phone the member list starts folded, leaving the screen to the messages.
  if (matchMedia("(max-width: 700px)").matches) byId<HTMLDetailsElement>("members-panel").open = false;
  try {
    byId<HTMLInputElement>("nick").value = localStorage.getItem(NICK_STORAGE_KEY) ?? "";
  } catch {
    // No storage: start blank.
  }
  byId<HTMLFormElement>("signin-form").addEventListener("submit", (event) => void signIn(event));
  byId<HTMLFormElement>("compose").addEventListener("submit", (event) => void compose(event));
  byId<HTMLFormElement>("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>("join-room");
    const room = input.value.trim().replace(/^#/, "");
    if (!room || !client) return;
    input.value = "";
    const chat = client;
    void attempt(async () => select(roomKey((await chat.join(room)).room)));
  });
  byId("leave").addEventListener("click", () => {
    const current = model.current === null ? undefined : model.conversations.get(model.current);
    if (!current || !client) return;
    const chat = client;
    if (current.kind === "room" && !current.gone) void attempt(() => chat.leave(current.name));
    else {
      model.close(current.key);
      view.render();
    }
  });
  byId("earlier").addEventListener("click", () => void loadEarlier());
  // Scrolling to the top of the list asks for the page before it, as chat apps do.
  byId("lines").addEventListener("scroll", () => {
    if (byId("lines").scrollTop < 8) void loadEarlier();
  });
  byId("set-topic").addEventListener("click", () => {
    const room = currentRoom();
    if (!room) return;
    const input = byId<HTMLInputElement>("text");
    input.value = `/topic ${model.conversations.get(roomKey(room))?.topic ?? ""}`;
    input.focus();
  });
  byId("away").addEventListener("click", () => {
    if (!client) return;
    const chat = client;
    away = !away;
    byId("away").textContent = away ? "I'm back" : "Set away";
    void attempt(() => chat.setStatus(away ? "away" : "online"));
  });
  // Alt+ArrowUp / Alt+ArrowDown move between conversations from anywhere.
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    const keys = model.ordered().map((c) => c.key);
    if (keys.length === 0) return;
    const at = model.current === null ? 0 : keys.indexOf(model.current);
    select(keys[(at + (event.key === "ArrowUp" ? keys.length - 1 : 1)) % keys.length]);
    event.preventDefault();
  });
}

start();
