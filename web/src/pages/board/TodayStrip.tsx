import { secs } from "../reports/format";
import type { BoardData } from "./types";

/** `WORKING` → "working", `SCAN_QR_CODE` → "scan qr code". */
const statusLabel = (s: string) => s.toLowerCase().replace(/_/g, " ");
const statusLevel = (s: string) => (s === "WORKING" ? "ok" : s === "FAILED" || s === "STOPPED" ? "bad" : "warn");

/** Today's figures over the board's sessions and each session's WhatsApp status, as pushed. */
export function TodayStrip({ board }: { board: BoardData }) {
  const t = board.today;
  const figures: [string, string, string][] = [
    ["today-in", String(board.messages_today.in), "messages in"],
    ["today-out", String(board.messages_today.out), "messages out"],
    ["today-resolved", String(t.resolved), "resolved"],
    ["today-first-response", secs(t.first_response_median_s), "median first response"],
    ["today-bot", t.bot_auto_resolved_percent === null ? "–" : `${t.bot_auto_resolved_percent} %`, "resolved by the bot alone"],
    ["today-campaigns", String(t.running_campaigns), "campaigns running"],
  ];
  return (
    <section class="card board-today" aria-label="Today" data-testid="today">
      <h2 class="board-today-h">Today</h2>
      <dl class="board-today-figures">
        {figures.map(([id, v, label]) => (
          <div>
            <dt class="muted">{label}</dt>
            <dd data-testid={id}>{v}</dd>
          </div>
        ))}
      </dl>
      {board.sessions.length > 0 && (
        <ul class="board-today-sessions" aria-label="WhatsApp status">
          {[...board.sessions]
            .sort((a, b) => a.session.localeCompare(b.session))
            .map((s) => (
              <li class={`board-status board-status-${statusLevel(s.status ?? "")}`} data-testid={`status-${s.session}`} data-status={s.status}>
                <span class="board-status-dot" aria-hidden="true" />
                {s.session}: {statusLabel(s.status ?? "unknown")}
              </li>
            ))}
        </ul>
      )}
    </section>
  );
}
