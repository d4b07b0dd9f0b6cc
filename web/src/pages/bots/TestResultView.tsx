import { describeMatch } from "./TriggerSummary";
import type { TestResult, Trigger } from "./types";

const KIND: Record<string, string> = { greeting: "Greeting", trigger: "Trigger reply", fallback: "Fallback", after_hours: "After hours" };

/** What the tester answered: the trigger that fired, the replies, the handoff, open or closed. */
export function TestResultView({ result: r, triggers }: { result: TestResult; triggers: Trigger[] }) {
  const t = r.trigger_id === null ? null : triggers.find((x) => x.id === r.trigger_id);
  return (
    <div class="stack bots-result" data-testid="test-result" aria-live="polite">
      <dl class="bots-result-facts">
        <dt>Matched</dt>
        <dd data-testid="test-trigger">
          {r.trigger_id === null ? <span class="muted">no trigger</span> : t ? <>#{t.id} “{describeMatch(t)}”</> : <>#{r.trigger_id}</>}
        </dd>
        <dt>Action</dt>
        <dd data-testid="test-action">
          <span class="chip">{r.action}</span>
        </dd>
        <dt>Hands off</dt>
        <dd data-testid="test-handoff">{r.handoff ? `yes: ${r.handoff.reason}${r.handoff.detail ? ` (${r.handoff.detail})` : ""}` : "no"}</dd>
        <dt>Business hours</dt>
        <dd data-testid="test-open">
          <span class={`chip ${r.open ? "bots-open" : "bots-closed"}`}>{r.open ? "open" : "closed"}</span>
        </dd>
      </dl>
      {r.replies.length > 0 ? (
        <ol class="bots-replies" aria-label="Replies">
          {r.replies.map((x, i) => (
            <li key={i}>
              <span class="muted bots-reply-kind">{KIND[x.kind] ?? x.kind}</span>
              <span class="bots-bubble" data-testid="test-reply">
                {x.text}
              </span>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">The bot would send nothing.</p>
      )}
      {r.failures.length > 0 && (
        <div class="error" role="alert">
          Failures (the bot would hand over, reason bot_failed):
          <ul>
            {r.failures.map((f, i) => (
              <li key={i}>{f}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
