import { useEffect, useState } from "preact/hooks";
import { getAll } from "../../api/http";
import type { PresenceUpdate } from "../../api/types";
import { live, me } from "../../state/session";
import { AuditLog } from "./AuditLog";
import { MemberForm } from "./MemberForm";
import { MembersTable } from "./MembersTable";
import type { Member } from "./types";
import "./team.css";

type Tab = "members" | "audit";
type Editing = { kind: "new" } | { kind: "edit"; member: Member } | null;

/** A member.updated carries no presence; the one already known stays. */
const upsert = (list: Member[], m: Member) =>
  list.some((x) => x.id === m.id)
    ? list.map((x) => (x.id === m.id ? { ...m, presence: m.presence ?? x.presence } : x))
    : [...list, m];

/** The team (members, roles, access, hours, capacity) and the audit log. */
export function Team(_: { params: Record<string, string> }) {
  const viewer = me.value!;
  const [tab, setTab] = useState<Tab>("members");
  const [members, setMembers] = useState<Member[] | null>(null);
  const [sessionNames, setSessionNames] = useState<string[]>([]);
  const [editing, setEditing] = useState<Editing>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    const load = async () => {
      try {
        const [ms, ss] = await Promise.all([
          getAll<Member>("/api/team-members", { include: "presence" }),
          getAll<{ name: string }>("/api/sessions"),
        ]);
        if (!alive) return;
        setMembers(ms);
        setSessionNames(ss.map((s) => s.name).sort());
        setError(null);
      } catch (e) {
        if (alive) setError((e as Error).message);
      }
    };
    const offs = [
      live.on("member.updated", (f) => setMembers((l) => l && upsert(l, f.data as Member))),
      live.on("presence.updated", (f) => {
        const p = f.data as PresenceUpdate;
        setMembers((l) => l && l.map((m) => (m.id === p.user_id ? { ...m, presence: p.status } : m)));
      }),
      live.on("resync", () => void load()),
    ];
    void load();
    return () => {
      alive = false;
      offs.forEach((off) => off());
    };
  }, []);

  const saved = (m: Member) => {
    setMembers((l) => upsert(l ?? [], m));
    setEditing(null);
  };
  const tabs: { id: Tab; label: string }[] = [
    { id: "members", label: "Members" },
    { id: "audit", label: "Audit log" },
  ];

  return (
    <main class="main team" data-testid="team">
      <div class="team-top">
        <h1>Team</h1>
        <div
          role="tablist"
          aria-label="Team"
          class="team-tabs"
          onKeyDown={(e) => {
            if (e.key === "ArrowRight" || e.key === "ArrowLeft") setTab((t) => (t === "members" ? "audit" : "members"));
          }}
        >
          {tabs.map((t) => (
            <button
              type="button"
              role="tab"
              id={`team-tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls={`team-panel-${t.id}`}
              tabIndex={tab === t.id ? 0 : -1}
              class={tab === t.id ? "team-tab-on" : ""}
              onClick={() => setTab(t.id)}
            >
              {t.label}
            </button>
          ))}
        </div>
        {tab === "members" && !editing && (
          <button type="button" class="primary" onClick={() => setEditing({ kind: "new" })}>
            New member
          </button>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div role="tabpanel" id={`team-panel-${tab}`} aria-labelledby={`team-tab-${tab}`}>
        {tab === "members" && (
          <>
            {editing && (
              <MemberForm
                key={editing.kind === "edit" ? editing.member.id : "new"}
                viewer={viewer}
                sessionNames={sessionNames}
                member={editing.kind === "edit" ? editing.member : undefined}
                onSaved={saved}
                onCancel={() => setEditing(null)}
              />
            )}
            {members === null && !error && <p class="muted" aria-busy="true">Loading the team…</p>}
            {members && (
              <MembersTable
                viewer={viewer}
                members={members}
                onEdit={(m) => setEditing({ kind: "edit", member: m })}
                onChanged={(m) => setMembers((l) => upsert(l ?? [], m))}
              />
            )}
          </>
        )}
        {tab === "audit" && <AuditLog members={members ?? []} sessionNames={sessionNames} />}
      </div>
    </main>
  );
}
