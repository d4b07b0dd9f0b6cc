// Names of colleagues, for "assigned to …": supervisors may read the team list; agents may
// not (docs/permissions.md), so for them a colleague stays "a colleague".

import { signal } from "@preact/signals";
import { getAll } from "../../api/http";
import { isSupervisor } from "../../api/types";
import { live, me } from "../../state/session";
import type { TeamMember } from "./types";

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

export function memberName(id: number | null): string {
  if (id === null) return "Unassigned";
  if (id === me.value?.id) return "You";
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
