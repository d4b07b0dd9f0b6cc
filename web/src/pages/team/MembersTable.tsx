import { useState } from "preact/hooks";
import { post } from "../../api/http";
import type { User } from "../../api/types";
import { hoursText } from "../../lib/hours";
import { PasswordReset } from "./PasswordReset";
import { mayManage } from "./roles";
import type { Member } from "./types";

interface Props {
  viewer: User;
  members: Member[];
  onEdit: (m: Member) => void;
  onChanged: (m: Member) => void;
}

/** Every member with their access, load limits and hours; actions for those the viewer manages. */
export function MembersTable({ viewer, members, onEdit, onChanged }: Props) {
  const [resetting, setResetting] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const toggle = async (m: Member) => {
    setError(null);
    try {
      onChanged(await post<Member>(`/api/team-members/${m.id}/${m.active ? "deactivate" : "activate"}`));
    } catch (e) {
      setError(`${m.name}: ${(e as Error).message}`);
    }
  };

  return (
    <div class="team-table-wrap">
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table class="team-table" aria-label="Team members">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Sessions</th>
            <th>Capacity</th>
            <th>Working hours</th>
            <th>Status</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {[...members]
            .sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name))
            .map((m) => {
              const manage = mayManage(viewer, m);
              const self = m.id === viewer.id;
              const presence = m.presence ?? "offline";
              return [
                <tr class={m.active ? "" : "team-inactive"} data-testid={`team-row-${m.email}`}>
                  <td data-label="Name">
                    <span class="team-who">
                      <span class={`presence-dot p-${presence}`} title={presence} role="img" aria-label={presence} />
                      <span>
                        <strong>{m.name}</strong>
                        <span class="muted team-email">{m.email}</span>
                      </span>
                    </span>
                  </td>
                  <td data-label="Role">
                    <span class="chip">{m.role}</span>
                    {m.skills.length > 0 && <span class="muted team-skills">{m.skills.join(", ")}</span>}
                  </td>
                  <td data-label="Sessions">{m.role === "admin" ? <span class="muted">all</span> : m.sessions.join(", ") || "—"}</td>
                  <td data-label="Capacity">{m.capacity ?? <span class="muted">no limit</span>}</td>
                  <td data-label="Working hours" class="team-hours-cell">
                    {hoursText(m.working_hours)}
                  </td>
                  <td data-label="Status">{m.active ? "active" : <span class="muted">deactivated</span>}</td>
                  <td class="team-actions">
                    {manage && (
                      <>
                        <button type="button" class="small" onClick={() => onEdit(m)} aria-label={`Edit ${m.name}`}>
                          Edit
                        </button>
                        {!self && (
                          <button
                            type="button"
                            class={`small ${m.active ? "danger" : ""}`}
                            onClick={() => void toggle(m)}
                            aria-label={`${m.active ? "Deactivate" : "Activate"} ${m.name}`}
                          >
                            {m.active ? "Deactivate" : "Activate"}
                          </button>
                        )}
                        {!self && m.active && (
                          <button
                            type="button"
                            class="small ghost"
                            onClick={() => setResetting(m.id)}
                            aria-label={`Reset the password of ${m.name}`}
                          >
                            Reset password
                          </button>
                        )}
                      </>
                    )}
                  </td>
                </tr>,
                resetting === m.id && (
                  <tr class="team-reset-row">
                    <td colSpan={7}>
                      <PasswordReset
                        member={m}
                        onDone={(msg) => {
                          setResetting(null);
                          setNotice(msg);
                        }}
                      />
                    </td>
                  </tr>
                ),
              ];
            })}
        </tbody>
      </table>
    </div>
  );
}
