import { useState } from "preact/hooks";
import { post } from "../../api/http";
import { shortTime } from "../../lib/format";
import { QrCode } from "./QrCode";
import { SessionSettingsForm } from "./SessionSettingsForm";
import type { SessionView } from "./types";

const TONE: Record<string, string> = {
  WORKING: "ok",
  SCAN_QR_CODE: "wait",
  STARTING: "wait",
  STOPPED: "off",
  FAILED: "bad",
};

const STATUS_HELP: Record<string, string> = {
  WORKING: "Connected: messages flow.",
  SCAN_QR_CODE: "Waiting to be paired with a phone.",
  STARTING: "Starting…",
  STOPPED: "Stopped: nothing is received or sent.",
  FAILED: "WAHA could not run it; start it again, or log out and pair anew.",
};

interface Props {
  session: SessionView;
  /** Admins start, stop, log out, pair and change settings; managers only look. */
  manage: boolean;
  onChanged: (s: SessionView) => void;
}

export function SessionCard({ session: s, manage, onChanged }: Props) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmLogout, setConfirmLogout] = useState(false);
  const path = `/api/sessions/${encodeURIComponent(s.name)}`;

  const run = async (what: string, f: () => Promise<SessionView>) => {
    setBusy(what);
    setError(null);
    try {
      onChanged(await f());
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };
  const action = (a: "start" | "stop" | "logout") => run(a, () => post<SessionView>(`${path}/${a}`));

  const tone = TONE[s.status] ?? "wait";
  const running = ["WORKING", "STARTING", "SCAN_QR_CODE"].includes(s.status);
  return (
    <article class="card sessions-card" data-testid={`session-${s.name}`} aria-labelledby={`session-h-${s.id}`}>
      <header class="sessions-head">
        <div>
          <h2 id={`session-h-${s.id}`}>{s.name}</h2>
          <span class="muted">
            {s.me_name || s.me_id ? `${s.me_name ?? ""} ${s.me_id ? `(${s.me_id.split("@")[0]})` : ""}` : "Not paired"}
          </span>
        </div>
        <span class={`sessions-status sessions-${tone}`} data-testid="session-status" role="status">
          {s.status}
        </span>
      </header>
      <p class="muted sessions-help">{STATUS_HELP[s.status] ?? `WAHA says ${s.status}.`}</p>
      {!s.receiving_events && (
        <p class="notice" role="alert">
          Events are not getting through{s.events_problem ? `: ${s.events_problem}` : "."}
        </p>
      )}
      {manage && s.status === "SCAN_QR_CODE" && <QrCode session={s.name} />}

      <SessionSettingsForm session={s} manage={manage} locked={busy !== null} onSaved={onChanged} />

      {manage && (
        <div class="row sessions-actions">
          <button type="button" disabled={busy !== null || running} onClick={() => void action("start")}>
            {busy === "start" ? "Starting…" : "Start"}
          </button>
          <button type="button" disabled={busy !== null || s.status === "STOPPED"} onClick={() => void action("stop")}>
            {busy === "stop" ? "Stopping…" : "Stop"}
          </button>
          {!confirmLogout ? (
            <button type="button" class="danger" disabled={busy !== null} onClick={() => setConfirmLogout(true)}>
              Log out…
            </button>
          ) : (
            <span class="row sessions-confirm" role="group" aria-label="Confirm log out">
              <span>Unpair {s.name} from its phone? It must be scanned again.</span>
              <button
                type="button"
                class="danger"
                onClick={() => {
                  setConfirmLogout(false);
                  void action("logout");
                }}
              >
                Log out
              </button>
              <button type="button" class="ghost" onClick={() => setConfirmLogout(false)}>
                Cancel
              </button>
            </span>
          )}
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <p class="muted sessions-meta">Updated {shortTime(s.updated_at)}</p>
    </article>
  );
}
