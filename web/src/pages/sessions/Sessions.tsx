import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, getAll } from "../../api/http";
import { live, me } from "../../state/session";
import { RegisterSession } from "./RegisterSession";
import { SessionCard } from "./SessionCard";
import type { SessionSettingsEvent, SessionStatusEvent, SessionView } from "./types";
import "./sessions.css";

const upsert = (list: SessionView[], s: SessionView) =>
  list.some((x) => x.id === s.id) ? list.map((x) => (x.id === s.id ? s : x)) : [...list, s];

/** The WhatsApp sessions: status live from `session.status`, settings from `session.settings`. */
export function Sessions(_: { params: Record<string, string> }) {
  const [sessions, setSessions] = useState<SessionView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const manage = me.value?.role === "admin";
  // What is shown, for the socket's handlers (set up once) to tell a known session from a new one.
  const shown = useRef(sessions);
  shown.current = sessions;

  useEffect(() => {
    let alive = true;
    // The newest status each event told; a record read later may predate a later event.
    const told = new Map<string, string>();
    const load = async () => {
      told.clear();
      try {
        const all = await getAll<SessionView>("/api/sessions");
        if (alive) {
          setSessions(all);
          setError(null);
        }
      } catch (e) {
        if (alive) setError((e as Error).message);
      }
    };
    // A session registered elsewhere is not in the list yet: its record is read once.
    const refresh = async (name: string) => {
      try {
        const s = await get<SessionView>(`/api/sessions/${encodeURIComponent(name)}`);
        const status = told.get(name) ?? s.status;
        if (alive) setSessions((l) => (l ? upsert(l, { ...s, status }) : l));
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) console.warn(e);
      }
    };
    const offs = [
      live.on("session.status", (f) => {
        const d = f.data as SessionStatusEvent;
        told.set(d.session, d.status);
        const change = { status: d.status, me_id: d.me_id, me_name: d.me_name };
        setSessions((l) => l && l.map((s) => (s.name === d.session ? { ...s, ...change } : s)));
        const list = shown.current;
        if (list && !list.some((s) => s.name === d.session)) void refresh(d.session);
      }),
      live.on("session.settings", (f) => {
        const { session, ...changed } = f.data as SessionSettingsEvent;
        setSessions((l) => l && l.map((s) => (s.name === session ? { ...s, ...changed } : s)));
      }),
      live.on("resync", () => void load()),
    ];
    void load();
    return () => {
      alive = false;
      offs.forEach((off) => off());
    };
  }, []);

  const changed = (s: SessionView) => setSessions((l) => upsert(l ?? [], s));

  return (
    <main class="main sessions" data-testid="sessions">
      <div class="sessions-top">
        <h1>Sessions</h1>
        {manage && <RegisterSession onCreated={changed} />}
      </div>
      {!manage && <p class="muted">Only admins start, stop, pair or change sessions; you see the ones you work in.</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {sessions === null && !error && <p class="muted" aria-busy="true">Loading sessions…</p>}
      {sessions?.length === 0 && <p class="muted">No WhatsApp session yet.</p>}
      <div class="sessions-grid">
        {[...(sessions ?? [])]
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((s) => (
            <SessionCard key={s.id} session={s} manage={manage} onChanged={changed} />
          ))}
      </div>
    </main>
  );
}
