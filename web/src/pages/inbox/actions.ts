// Conversation actions: over the socket when it is up (the hub acks them), else the same
// operation over HTTP — both go through the same access policy.

import { post } from "../../api/http";
import { CommandError } from "../../live/socket";
import { live } from "../../state/session";

async function act(command: string, data: Record<string, unknown>, path: string, body: unknown = {}) {
  try {
    await live.command(command, data);
  } catch (e) {
    if (e instanceof CommandError && e.code === "unavailable") await post(path, body);
    else throw e;
  }
}

export const assign = (id: number, assignee_id: number | null, note?: string) =>
  act("conversation.assign", { conversation_id: id, assignee_id, note }, `/api/conversations/${id}/assign`, {
    assignee_id,
    note,
  });

export const resolve = (id: number) =>
  act("conversation.resolve", { conversation_id: id }, `/api/conversations/${id}/resolve`);

export const reopen = (id: number) => act("conversation.reopen", { conversation_id: id }, `/api/conversations/${id}/reopen`);

export const addNote = (id: number, text: string) =>
  act("conversation.note", { conversation_id: id, text }, `/api/conversations/${id}/notes`, { text });

export const markRead = (id: number) => act("conversation.read", { conversation_id: id }, `/api/conversations/${id}/read`);
