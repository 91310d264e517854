/**
 * CHATHISTORY (IRCv3 draft/chathistory): read, plan and send as one
 * `history` frame; chathistory.ts renders the answer.
 *
 * @module
 */
import { nickProblem } from "../../../protocol/names.ts";
import { channelToRoom, roomToChannel } from "../channels.ts";
import {
  batchLines,
  type ChathistoryFail,
  failLine,
  type HistoryAsk,
  MAX_WAITING_ASKS,
  parseChathistory,
  planChathistory,
} from "../chathistory.ts";
import type { IrcMessage } from "../message.ts";
import type { IrcSession } from "../session.ts";

/** CHATHISTORY <subcommand> <target> <ref> [<ref>] <limit>. */
export function chathistory(s: IrcSession, m: IrcMessage): void {
  const command = parseChathistory(m.params);
  if ("code" in command) return fail(s, command);
  const { sub, target } = command;
  const invalidTarget = () => fail(s, { code: "INVALID_TARGET", params: [sub, target], text: "No such channel or nick" });
  if (!target.startsWith("#")) {
    // Direct messages are not kept: a nick has no history, which the spec answers with an empty batch.
    if (nickProblem(target) !== undefined) return invalidTarget();
    for (const line of batchLines(s, target, [])) s.send(line);
    return;
  }
  const lookup = channelToRoom(target);
  if (!("room" in lookup)) return invalidTarget();
  const room = lookup.room;
  const plan = planChathistory(command, room, (ts) => s.host.lookup.historySeqAt(s.host.session, room, ts));
  if ("code" in plan) return fail(s, plan);
  if (s.historyAsks.size >= MAX_WAITING_ASKS) {
    return fail(s, { code: "MESSAGE_ERROR", params: [sub, target, "busy"], text: "Too many CHATHISTORY requests waiting for an answer" });
  }
  const ask: HistoryAsk = { command, channel: roomToChannel(room), plan, label: s.context?.label };
  const id = s.historyAsks.add(ask);
  s.historyAsks.current = ask;
  try {
    // The same frame a JSON client sends: membership, rate limit and byte cap are the hub's.
    s.submit({ type: "history", room, ...plan.query, id }, target);
  } finally {
    s.historyAsks.current = null;
  }
  // Not answered yet: a history store is fetching the page; its answer is written (labelled) when it comes.
  if (s.historyAsks.has(id) && s.context) s.context.deferred = true;
}

function fail(s: IrcSession, problem: ChathistoryFail): void {
  s.send(failLine(s, problem));
}
