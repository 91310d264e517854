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
});

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
    setStatus(`Signed in as ${model.nick}`);
    update();
  });
  chat.on("error", (frame) => (model.notice(`! ${frame.code}: ${frame.message}`, now()), update()));
  chat.on("renamed", (change) => {
    model.nick = change.new;
    model.notice(`your nick was still held, so you are now ${change.new}`, now());
    update();
  });
  chat.on("state", ({ state, delayMs, attempt }) => {
    if (state === "online") setStatus(`Signed in as ${model.nick}`);
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

async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const nickInput = byId<HTMLInputElement>("nick");
  const error = byId("signin-error");
  const nick = nickInput.value.trim();
  if (!nick) return;
  error.textContent = "";
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const chat = new ChatClient({ dial: wsDialer(url.href), nick, client: "tcpchat-web" });
  wire(chat);
  try {
    await chat.connect();
  } catch (failure) {
    error.textContent = failure instanceof ChatError && failure.code === "nick_taken"
      ? `${nick} is taken: pick another nick`
      : `Cannot sign in: ${problem(failure)}`;
    nickInput.focus();
    return;
  }
  client = chat;
  model.nick = chat.nick;
  try {
    localStorage.setItem(NICK_STORAGE_KEY, nick);
  } catch {
    // Storage may be off; remembering the nick is a nicety.
  }
  byId("signin").hidden = true;
  byId("chat").hidden = false;
  setStatus(`Signed in as ${model.nick}`);
  view.render();
  byId("text").focus();
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
  const action = parseInput(line);
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
    if (current.kind === "room") void attempt(() => chat.leave(current.name));
    else {
      model.close(current.key);
      view.render();
    }
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
