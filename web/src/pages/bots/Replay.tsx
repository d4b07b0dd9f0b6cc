import { useState } from "preact/hooks";
import type { Page } from "../../api/http";
import { post } from "../../api/http";
import { formatErr } from "../../api/fieldErrors";
import type { ReplayStep } from "./types";

/** Runs a real conversation's customer messages through the bot as it is now (nothing is sent). */
export function Replay({ botId }: { botId: number }) {
  const [conv, setConv] = useState("");
  const [steps, setSteps] = useState<ReplayStep[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const page = await post<Page<ReplayStep>>(`/api/bots/${botId}/replay`, { conversation_id: Number(conv) });
      setSteps(page.items);
    } catch (x) {
      setError(formatErr(x));
      setSteps(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <details class="card bots-replay">
      <summary>Replay a conversation</summary>
      <form class="row" onSubmit={run}>
        <label>
          Conversation id
          <input type="number" min={1} required value={conv} onInput={(e) => setConv(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy || !conv}>
          Replay
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {steps && steps.length === 0 && <p class="muted">That conversation has no customer messages.</p>}
      {steps && steps.length > 0 && (
        <ol class="bots-replay-steps">
          {steps.map((s) => (
            <li key={s.message_id}>
              <span class="bots-bubble bots-bubble-in">{s.text}</span>
              {s.silent || !s.result ? (
                <span class="muted">silent (a person has it)</span>
              ) : (
                <span>
                  <span class="chip">{s.result.action}</span>
                  {s.result.trigger_id !== null && <span class="muted"> #{s.result.trigger_id}</span>}
                  {s.result.replies.map((r, i) => (
                    <span key={i} class="bots-bubble">
                      {r.text}
                    </span>
                  ))}
                  {s.result.handoff && <span class="chip">hands off: {s.result.handoff.reason}</span>}
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}
