import { useEffect, useRef, useState } from "preact/hooks";
import { get } from "../../api/http";
import type { PresenceUpdate } from "../../api/types";
import { live } from "../../state/session";
import { applyPresence, applyUpdate } from "./boardState";
import { MemberList } from "./MemberList";
import { PresenceHistory } from "./PresenceHistory";
import { QueueList } from "./QueueList";
import type { BoardData, BoardUpdate } from "./types";
import { useNow } from "./useNow";
import { TodayStrip } from "./TodayStrip";
import "./board.css";

/** The supervisors' board: read once, then kept by `dashboard.updated` and `presence.updated`. */
export function Board(_: { params: Record<string, string> }) {
  const [board, setBoard] = useState<BoardData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const now = useNow(15_000);
  // Pushes that arrive while the board is being read are applied on top of what it reads.
  const pending = useRef<BoardUpdate[] | null>(null);

  useEffect(() => {
    let alive = true;
    const load = async () => {
      pending.current = [];
      try {
        const b = await get<BoardData>("/api/dashboard");
        if (!alive) return;
        const queued = pending.current ?? [];
        pending.current = null;
        setBoard(queued.reduce<BoardData>((acc, u) => applyUpdate(acc, u), b));
        setError(null);
      } catch (e) {
        pending.current = null;
        if (alive) setError((e as Error).message);
      }
    };
    const offs = [
      live.on("dashboard.updated", (f) => {
        const u = f.data as BoardUpdate;
        if (pending.current && !u.full) pending.current.push(u);
        else setBoard((b) => applyUpdate(b, u));
      }),
      live.on("presence.updated", (f) => {
        const p = f.data as PresenceUpdate;
        setBoard((b) => applyPresence(b, p));
      }),
      live.on("resync", () => void load()),
    ];
    void load();
    return () => {
      alive = false;
      offs.forEach((off) => off());
    };
  }, []);

  const member = board?.members.find((m) => m.user_id === selected);

  return (
    <main class="main board" data-testid="board">
      <h1>Board</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!board && !error && <p class="muted" aria-busy="true">Loading the board…</p>}
      {board && (
        <>
          <div class="board-totals" role="group" aria-label="Totals">
            <div class="card board-total">
              <span class="board-total-n" data-testid="total-online">{board.agents_online}</span>
              <span class="muted">online</span>
            </div>
            <div class="card board-total">
              <span class="board-total-n" data-testid="total-open">{board.open_conversations}</span>
              <span class="muted">open conversations</span>
            </div>
            <div class="card board-total">
              <span class="board-total-n" data-testid="total-waiting">{board.waiting_conversations}</span>
              <span class="muted">waiting unassigned</span>
            </div>
          </div>
          <TodayStrip board={board} />
          <div class="board-grid">
            <section class="card board-col" aria-labelledby="board-members-h">
              <h2 id="board-members-h">Team</h2>
              <MemberList
                members={board.members}
                now={now}
                selected={selected}
                onSelect={(id) => setSelected((s) => (s === id ? null : id))}
              />
            </section>
            <div class="board-side">
              <section class="card board-col" aria-labelledby="board-queues-h">
                <h2 id="board-queues-h">Queues</h2>
                <QueueList sessions={board.sessions} />
              </section>
              {member && (
                <PresenceHistory userId={member.user_id} name={member.name} onClose={() => setSelected(null)} />
              )}
            </div>
          </div>
        </>
      )}
    </main>
  );
}
