import { useState } from "preact/hooks";
import { post } from "../../api/http";
import { formatErr } from "../../api/fieldErrors";
import { TestResultView } from "./TestResultView";
import type { TestResult, Trigger } from "./types";

interface Props {
  botId: number;
  triggers: Trigger[];
  /** Tells the page which trigger fired, to highlight it in the list. */
  onResult: (r: TestResult | null) => void;
}

/** `datetime-local` (the browser's local time) → RFC 3339, or undefined for "now". */
function atOf(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Asks the hub what the bot would do with a message (POST /api/bots/{id}/test); nothing is sent. */
export function Tester({ botId, triggers, onResult }: Props) {
  const [text, setText] = useState("");
  const [at, setAt] = useState("");
  const [first, setFirst] = useState(false);
  const [name, setName] = useState("");
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await post<TestResult>(`/api/bots/${botId}/test`, {
        text,
        at: atOf(at),
        first_contact: first,
        contact: name.trim() ? { name: name.trim() } : undefined,
      });
      setResult(r);
      onResult(r);
    } catch (x) {
      setError(formatErr(x));
      setResult(null);
      onResult(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card stack bots-tester" aria-labelledby="bots-tester-h">
      <h2 id="bots-tester-h">Try it</h2>
      <form class="stack" onSubmit={run}>
        <label>
          Customer message
          <textarea
            rows={2}
            value={text}
            required
            maxLength={4096}
            onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => {
              // Enter tests, Shift+Enter a new line: the way chat boxes behave.
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                (e.currentTarget.form as HTMLFormElement | null)?.requestSubmit();
              }
            }}
          />
        </label>
        <div class="row bots-tester-opts">
          <label>
            At (your time; empty = now)
            <input type="datetime-local" value={at} onInput={(e) => setAt(e.currentTarget.value)} />
          </label>
          <label>
            Contact name
            <input value={name} placeholder="e.g. Maria Silva" onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label class="inline">
            <input type="checkbox" checked={first} onChange={(e) => setFirst(e.currentTarget.checked)} />
            First contact
          </label>
        </div>
        <div>
          <button class="primary" type="submit" disabled={busy || !text.trim()}>
            Test
          </button>
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {result && <TestResultView result={result} triggers={triggers} />}
    </section>
  );
}
