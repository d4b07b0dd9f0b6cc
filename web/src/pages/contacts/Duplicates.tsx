import { useEffect, useState } from "preact/hooks";
import { get, post } from "../../api/http";
import { onLink } from "../../lib/router";
import { live } from "../../state/session";
import { ConfirmDialog } from "./ConfirmDialog";
import { displayName, type Contact } from "./types";

/** A suggestion of `GET /api/contacts/duplicates`: contacts that look like one person, oldest first. */
export interface DuplicateGroup {
  reason: "phone" | "email";
  value: string;
  contact_ids: number[];
}

/** The merges that fold a group into `keep`: every other contact, oldest first, one call each. */
export const mergesInto = (ids: number[], keep: number) => ids.filter((id) => id !== keep);

/** The group's key, stable across reloads (a choice of whom to keep survives a refresh). */
export const groupKey = (g: DuplicateGroup) => `${g.reason}:${g.value}`;

/** At most `n` requests at a time, answers in the order asked. */
export async function inTurns<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

interface Pending {
  group: DuplicateGroup;
  keep: number;
}

/** The suggestions of probable duplicates; those who write contacts merge a group into one contact. */
export function Duplicates({ canWrite }: { canWrite: boolean }) {
  const [groups, setGroups] = useState<DuplicateGroup[] | null>(null);
  const [contacts, setContacts] = useState<Map<number, Contact>>(new Map());
  const [keep, setKeep] = useState<Record<string, number>>({});
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [mergeError, setMergeError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const load = async () => {
    try {
      const d = await get<{ items: DuplicateGroup[] }>("/api/contacts/duplicates");
      const ids = [...new Set(d.items.flatMap((g) => g.contact_ids))];
      // A contact that went since the list was read is left out of its group.
      const found = await inTurns(ids, 6, (id) => get<Contact>(`/api/contacts/${id}`).catch(() => null));
      setContacts(new Map(found.filter((c): c is Contact => c !== null).map((c) => [c.id, c])));
      setGroups(d.items);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
    return live.on("resync", () => void load());
  }, []);

  const merge = async ({ group, keep: into }: Pending) => {
    setBusy(true);
    setMergeError(null);
    try {
      for (const from of mergesInto(group.contact_ids, into)) await post(`/api/contacts/${into}/merge`, { from });
      const kept = contacts.get(into);
      setDone(`Merged into ${kept ? displayName(kept) : `contact ${into}`}.`);
      setPending(null);
      await load();
    } catch (e) {
      setMergeError((e as Error).message);
      // Some merges may have happened: what is left is read again.
      await load();
    } finally {
      setBusy(false);
    }
  };

  const nameOf = (id: number) => {
    const c = contacts.get(id);
    return c ? displayName(c) : `contact ${id}`;
  };

  return (
    <section class="card contacts-duplicates" aria-label="Probable duplicates">
      <h2>Probable duplicates</h2>
      <p class="muted">Contacts with the same number (in any format or session) or the same email. Merging keeps one: the others' conversations, WhatsApp ids, tags and history move to it.</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p class="muted" role="status">
          {done}
        </p>
      )}
      {groups === null && !error && <p class="muted">Loading…</p>}
      {groups?.length === 0 && <p class="muted">No probable duplicates.</p>}
      <ul class="contacts-dup-groups">
        {groups?.map((g) => {
          const ids = g.contact_ids.filter((id) => contacts.has(id));
          if (ids.length < 2) return null;
          const key = groupKey(g);
          const chosen = ids.includes(keep[key]) ? keep[key] : ids[0];
          return (
            <li class="contacts-dup-group" data-testid="duplicate-group" data-key={key}>
              <div class="muted">
                Same {g.reason}: <strong>{g.value}</strong>
              </div>
              <table class="contacts-table">
                <tbody>
                  {ids.map((id) => {
                    const c = contacts.get(id)!;
                    return (
                      <tr data-testid="duplicate-contact" data-id={id}>
                        {canWrite && (
                          <td>
                            <label class="inline">
                              <input type="radio" name={`keep-${key}`} checked={chosen === id} onChange={() => setKeep((k) => ({ ...k, [key]: id }))} />
                              {`Keep ${displayName(c)}`}
                            </label>
                          </td>
                        )}
                        <td>
                          <a href={`/contacts/${id}`} onClick={(e) => onLink(e, `/contacts/${id}`)}>
                            {displayName(c)}
                          </a>
                        </td>
                        <td>{c.phone ?? c.chat_id}</td>
                        <td>{c.email ?? "—"}</td>
                        <td>{c.session}</td>
                        <td>{c.conversation_count} conv.</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {canWrite && (
                <button
                  type="button"
                  onClick={() => {
                    setMergeError(null);
                    setDone(null);
                    setPending({ group: { ...g, contact_ids: ids }, keep: chosen });
                  }}
                >
                  Merge into {nameOf(chosen)}…
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {pending && (
        <ConfirmDialog
          title="Merge contacts"
          confirmLabel="Merge"
          busy={busy}
          error={mergeError}
          onConfirm={() => void merge(pending)}
          onCancel={() => setPending(null)}
        >
          <p>
            Merge {mergesInto(pending.group.contact_ids, pending.keep).map(nameOf).join(", ")} into <strong>{nameOf(pending.keep)}</strong>?
          </p>
          <p class="muted">Their conversations, WhatsApp ids, tags, notes and spend move to {nameOf(pending.keep)}; they are then deleted. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
