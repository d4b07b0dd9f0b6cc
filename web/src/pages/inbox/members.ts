// Colleagues' names, presence and load. Everyone with an inbox reads the team of each
// session they work in (GET /api/sessions/{name}/members): the transfer picker and the
// names on messages come from there. Supervisors also read the whole team list, which
// still names deactivated members on old messages.

import { signal } from "@preact/signals";
import { get, getAll, type Page } from "../../api/http";
import { isSupervisor } from "../../api/types";
import { live, me } from "../../state/session";
import type { SessionMember, TeamMember } from "./types";

/** Each session's team, by session name, as last read. */
export const sessionMembers = signal<Record<string, SessionMember[]>>({});
export const members = signal<TeamMember[]>([]);
let loaded = false;

export async function loadMembers(force = false) {
  const user = me.value;
  if (!user || !isSupervisor(user.role) || (loaded && !force)) return;
  loaded = true;
  try {
    members.value = await getAll<TeamMember>("/api/team-members", { include: "presence" });
  } catch {
    loaded = false;
  }
}

/** Reads a session's team afresh (its presence and load are as of this read). */
export async function loadSessionMembers(session: string) {
  try {
    const page = await get<Page<SessionMember>>(`/api/sessions/${encodeURIComponent(session)}/members`);
    sessionMembers.value = { ...sessionMembers.value, [session]: page.items };
  } catch {
    /* a session one no longer works in: its team stays unknown */
  }
}

export function memberName(id: number | null): string {
  if (id === null) return "Unassigned";
  if (id === me.value?.id) return "You";
  for (const team of Object.values(sessionMembers.value)) {
    const m = team.find((x) => x.id === id);
    if (m) return m.name;
  }
  return members.value.find((m) => m.id === id)?.name ?? "A colleague";
}

// New and changed members reach supervisors live: the picker never needs a reload.
live.on("member.updated", (f) => {
  const m = f.data as TeamMember;
  if (!loaded || typeof m?.id !== "number") return;
  const i = members.value.findIndex((x) => x.id === m.id);
  const next = members.value.slice();
  if (i >= 0) next[i] = { ...next[i]!, ...m };
  else next.push(m);
  members.value = next;
});
