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
  listTargets,
  MAX_WAITING_ASKS,
  parseChathistory,
  parseTargets,
  planChathistory,
  targetsLines,
} from "../chathistory.ts";
import type { IrcMessage } from "../message.ts";
import type { IrcSession } from "../session.ts";

/** CHATHISTORY <subcommand> <target> <ref> [<ref>] <limit>, or CHATHISTORY TARGETS <timestamp> <timestamp> <limit>. */
export function chathistory(s: IrcSession, m: IrcMessage): void {
  if (m.params[0]?.toUpperCase() === "TARGETS") return targets(s, m.params);
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
  const plan = planChathistory(command, room, (ts) => s.host.lookup.historyAt(s.host.session, room, ts)?.seq ?? null);
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

/** TARGETS: the client's channels with messages between two times (no DM history is kept, so no nicks). */
function targets(s: IrcSession, params: string[]): void {
  const command = parseTargets(params);
  if ("code" in command) return fail(s, command);
  const session = s.host.session;
  const channels = [...session.rooms].map((room) => roomToChannel(room.name));
  const active = listTargets(command, channels, (channel, ts) => s.host.lookup.historyAt(session, channel.slice(1), ts)?.ts);
  for (const line of targetsLines(s, active)) s.send(line);
}

function fail(s: IrcSession, problem: ChathistoryFail): void {
  s.send(failLine(s, problem));
}
