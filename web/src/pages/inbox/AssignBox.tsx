// Assign / transfer / take / unassign, resolve / reopen. Supervisors pick any member who
// works in the conversation's session; agents may only take it or give it back.

import { useState } from "preact/hooks";
import { isSupervisor, type Conversation } from "../../api/types";
import { me } from "../../state/session";
import { assign, reopen, resolve } from "./actions";
import { memberName, members } from "./members";

export function AssignBox({ c }: { c: Conversation }) {
  const user = me.value!;
  const sup = isSupervisor(user.role);
  const [to, setTo] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

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

  const candidates = members.value.filter(
    (m) => m.active && m.role !== "marketing" && (m.role === "admin" || m.sessions.includes(c.session)),
  );

  return (
    <div class="stack inbox-assign">
      <p>
        Assigned to <strong data-testid="assignee">{memberName(c.assignee_id)}</strong>
      </p>
      {sup ? (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (to !== "") void run(() => assign(c.id, to === "none" ? null : Number(to)));
          }}
        >
          <select aria-label="Assign to" value={to} onChange={(e) => setTo((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">Choose a member…</option>
            <option value="none">Nobody (back to the queue)</option>
            {candidates.map((m) => (
              <option value={String(m.id)} disabled={m.id === c.assignee_id}>
                {m.name}
                {m.presence ? ` (${m.presence})` : ""}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy || to === ""}>
            {c.assignee_id === null ? "Assign" : "Transfer"}
          </button>
        </form>
      ) : (
        <div class="row">
          {c.assignee_id !== user.id && (
            <button type="button" disabled={busy} onClick={() => run(() => assign(c.id, user.id))}>
              Take it
            </button>
          )}
          {c.assignee_id === user.id && (
            <button type="button" disabled={busy} onClick={() => run(() => assign(c.id, null))}>
              Unassign
            </button>
          )}
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
