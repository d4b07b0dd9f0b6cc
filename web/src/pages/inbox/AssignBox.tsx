// Assign / transfer / take / unassign, resolve / reopen. The picker lists who works in the
// conversation's session (GET /api/sessions/{name}/members): supervisors assign anyone
// there, agents hand their own conversation to a colleague or back to the queue, and take
// an unassigned one for themselves (docs/permissions.md).

import { useEffect, useState } from "preact/hooks";
import { isSupervisor, type Conversation } from "../../api/types";
import { me } from "../../state/session";
import { assign, reopen, resolve } from "./actions";
import { loadSessionMembers, memberName, sessionMembers } from "./members";
import type { SessionMember } from "./types";

function label(m: SessionMember): string {
  const load = m.capacity === null ? `${m.open} open` : `${m.open}/${m.capacity}`;
  return `${m.name} (${m.presence} · ${load})`;
}

export function AssignBox({ c }: { c: Conversation }) {
  const user = me.value!;
  const sup = isSupervisor(user.role);
  const mine = c.assignee_id === user.id;
  const [to, setTo] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Presence and load as of opening the conversation (agents get no presence events).
  useEffect(() => {
    setTo("");
    void loadSessionMembers(c.session);
  }, [c.id, c.session, c.assignee_id]);

  async function run(f: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const candidates = (sessionMembers.value[c.session] ?? []).filter((m) => m.id !== c.assignee_id);
  // Agents hand on within a colleague's capacity; supervisors may go past it.
  const full = (m: SessionMember) => !sup && m.capacity !== null && m.open >= m.capacity;
  const picker = sup || mine;

  return (
    <div class="stack inbox-assign">
      <p>
        Assigned to <strong data-testid="assignee">{memberName(c.assignee_id)}</strong>
      </p>
      {picker && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (to !== "") void run(() => assign(c.id, to === "none" ? null : Number(to)));
          }}
        >
          <select
            aria-label={sup ? "Assign to" : "Hand over to"}
            value={to}
            onChange={(e) => setTo((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">Choose a colleague…</option>
            {c.assignee_id !== null && <option value="none">Nobody (back to the queue)</option>}
            {candidates.map((m) => (
              <option value={String(m.id)} disabled={full(m)}>
                {m.id === user.id ? `${m.name} (you)` : label(m)}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy || to === ""}>
            {c.assignee_id === null ? "Assign" : "Transfer"}
          </button>
        </form>
      )}
      {!sup && c.assignee_id === null && (
        <div class="row">
          <button type="button" disabled={busy} onClick={() => run(() => assign(c.id, user.id))}>
            Take it
          </button>
        </div>
      )}
      <div class="row">
        {c.status === "resolved" ? (
          <button type="button" disabled={busy} onClick={() => run(() => reopen(c.id))}>
            Reopen
          </button>
        ) : (
          <button type="button" class="primary" disabled={busy} onClick={() => run(() => resolve(c.id))} title="Resolve (e)">
            Resolve
          </button>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
