// Why conversations came to this member, as the socket told it: agents may not read the
// assignment log (docs/permissions.md), but the router tells them in `conversation.assigned`.

import { signal } from "@preact/signals";
import { live } from "../../state/session";
import type { Assigned, Handoff } from "./types";

export const assignedWhy = signal<Record<number, Assigned>>({});
export const handoffs = signal<Record<number, Handoff>>({});

live.on("conversation.assigned", (f) => {
  const a = f.data as Assigned;
  assignedWhy.value = { ...assignedWhy.value, [a.conversation_id]: a };
});
live.on("conversation.handoff", (f) => {
  const h = f.data as Handoff;
  handoffs.value = { ...handoffs.value, [h.conversation_id]: h };
});

export const RULES: Record<string, string> = {
  previous_agent: "the customer's previous agent, back with them",
  least_loaded: "fewest open conversations among those online",
  longest_idle: "equal load; waited longest since their last conversation",
  lowest_id: "equal load and idle time",
};

export const HANDOFF: Record<string, string> = {
  trigger: "a bot trigger handed it over",
  keyword: "the customer asked for a person",
  misses: "the bot could not place several messages",
  immediately: "the bot hands every conversation over",
  phone_takeover: "someone replied on the paired phone",
  bot_failed: "the bot failed",
};
