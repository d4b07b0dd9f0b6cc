import { useEffect, useState } from "preact/hooks";
import { get, type Page } from "../../api/http";
import { usePages } from "../../lib/usePages";
import type { Recipient, RecipientState } from "./types";

const STATES: RecipientState[] = ["pending", "queued", "sent", "delivered", "read", "replied", "failed", "skipped"];

/** A campaign's recipients a page at a time, by state; read again when `version` moves. */
export function RecipientList({ id, version }: { id: number; version: number }) {
  const [state, setState] = useState<RecipientState | "">("");
  const pages = usePages<Recipient>((cursor) => get<Page<Recipient>>(`/api/campaigns/${id}/recipients`, { state, cursor, limit: 50 }));
  useEffect(() => {
    void pages.load(null);
  }, [id, state, version]);
  return (
    <section class="card camp-recipients" aria-label="Recipients">
      <div class="row">
        <h2>Recipients</h2>
        <label>
          State
          <select aria-label="Recipient state" value={state} onChange={(e) => setState(e.currentTarget.value as RecipientState | "")}>
            <option value="">all</option>
            {STATES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      {pages.error && (
        <p class="error" role="alert">
          {pages.error}
        </p>
      )}
      <table class="camp-recipient-table">
        <thead>
          <tr>
            <th>Contact</th>
            <th>Phone</th>
            <th>State</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {pages.items.map((r) => (
            <tr data-testid="recipient-row" data-state={r.state}>
              <td>{r.name ?? `#${r.contact_id}`}</td>
              <td>{r.phone ?? "—"}</td>
              <td>{r.state}</td>
              <td>{r.reason ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!pages.busy && pages.items.length === 0 && <p class="muted">No recipient{state ? ` ${state}` : ""}.</p>}
      {pages.cursor && (
        <button type="button" disabled={pages.busy} onClick={() => void pages.load(pages.cursor)}>
          More recipients
        </button>
      )}
    </section>
  );
}
