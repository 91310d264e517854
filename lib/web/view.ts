/// <reference lib="dom" />
/**
 * Renders a {@linkcode ChatModel} into the page. Every piece of user text
 * goes in through `textContent` (never `innerHTML`), so a message is always
 * shown as the characters that were sent and can never become markup.
 *
 * @module
 */
import { type ChatModel, type Line, MAX_LINES } from "./model.ts";

/** `document.getElementById` that fails loudly when the page and the code disagree. */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page has no #${id}`);
  return element as T;
}

/** An element with a class and text. */
function el(tag: string, className: string, text: string): HTMLElement {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.textContent = text;
  return element;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** One line of a conversation as a list item. */
function lineItem(line: Line): HTMLLIElement {
  const item = document.createElement("li");
  item.className = line.kind;
  const time = el("time", "", timeFormat.format(line.ts)) as HTMLTimeElement;
  time.dateTime = new Date(line.ts).toISOString();
  item.append(time);
  if (line.kind === "msg") item.append(el("span", "from", line.from ?? ""), el("span", "text", line.text));
  else if (line.kind === "action") item.append(el("span", "text", `* ${line.from} ${line.text}`));
  else item.append(el("span", "text", line.text));
  return item;
}

/** Keeps the DOM in step with the model; call `render` after any change. */
export class ChatView {
  #shownKey: string | null = null;
  #shownAdded = 0;

  constructor(readonly model: ChatModel, readonly onSelect: (key: string) => void, readonly onDirect: (nick: string) => void) {}

  /** Brings the page up to date. */
  render(): void {
    this.#renderConversations();
    this.#renderLines();
    this.#renderMembers();
    const unread = [...this.model.conversations.values()].reduce((sum, c) => sum + c.unread, 0);
    document.title = unread > 0 ? `(${unread}) tcpchat` : "tcpchat";
  }

  #renderConversations(): void {
    const list = byId<HTMLUListElement>("conversations");
    const items = this.model.ordered().map((conversation) => {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.key = conversation.key;
      button.append(el("span", "", conversation.kind === "room" ? `#${conversation.name}` : `@${conversation.name}`));
      if (conversation.unread > 0) {
        button.append(el("span", "unread", String(conversation.unread)));
        button.setAttribute("aria-label", `${conversation.key}, ${conversation.unread} unread`);
      }
      if (conversation.key === this.model.current) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => this.onSelect(conversation.key));
      const item = document.createElement("li");
      item.append(button);
      return item;
    });
    // Keep focus on the same conversation button across a re-render.
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
    list.replaceChildren(...items);
    if (focused) (list.querySelector(`[data-key="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
  }

  #renderLines(): void {
    const list = byId<HTMLOListElement>("lines");
    const current = this.model.current === null ? undefined : this.model.conversations.get(this.model.current);
    byId("title").textContent = current ? (current.kind === "room" ? `#${current.name}` : `@${current.name}`) : "";
    byId<HTMLButtonElement>("leave").textContent = current?.kind === "dm" ? "Close" : "Leave";
    if (!current) {
      list.replaceChildren();
      this.#shownKey = null;
      return;
    }
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const fresh = current.added - this.#shownAdded;
    if (this.#shownKey !== current.key || fresh > current.lines.length || fresh < 0) {
      list.replaceChildren(...current.lines.map(lineItem));
      this.#shownKey = current.key;
      list.scrollTop = list.scrollHeight;
    } else if (fresh > 0) {
      list.append(...current.lines.slice(-fresh).map(lineItem));
      while (list.children.length > MAX_LINES) list.firstElementChild!.remove();
      if (atBottom) list.scrollTop = list.scrollHeight;
    }
    this.#shownAdded = current.added;
  }

  #renderMembers(): void {
    const current = this.model.current === null ? undefined : this.model.conversations.get(this.model.current);
    const members = current?.kind === "room" ? [...current.members.values()].sort((a, b) => a.nick.localeCompare(b.nick)) : [];
    // A crowded room lists only some of its members: say how many there are in all.
    const total = current?.memberCount ?? members.length;
    const count = total > members.length ? `${members.length} of ${total}` : String(members.length);
    byId("members-title").textContent = current?.kind === "room" ? `Members (${count})` : "Members";
    byId<HTMLUListElement>("members").replaceChildren(...members.map((member) => {
      const item = document.createElement("li");
      const label = member.status === "away" ? `${member.nick} (away${member.note ? `: ${member.note}` : ""})` : member.nick;
      if (member.nick === this.model.nick) {
        item.append(el("span", member.status, `${label} (you)`));
      } else {
        const button = el("button", member.status, label) as HTMLButtonElement;
        button.type = "button";
        button.title = `Direct message ${member.nick}`;
        button.addEventListener("click", () => this.onDirect(member.nick));
        item.append(button);
      }
      return item;
    }));
  }
}
