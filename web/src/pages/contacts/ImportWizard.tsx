import { useEffect, useMemo, useState } from "preact/hooks";
import { get, postCsv, withQuery } from "../../api/http";
import { formatErr } from "../../api/fieldErrors";
import { live, me } from "../../state/session";
import { guessTarget, IGNORE, mappedCsv, mappingProblems, parseCsv, TARGETS, type CsvRecord } from "./csv";
import { done, fraction, mergeProgress } from "./progress";
import { canWriteContacts, type ImportProgress, type ImportStatus } from "./types";
import type { Schema } from "./useSchema";

/** How often the status is read while an import runs (the websocket's frames come between). */
export const POLL_MS = 1000;
const PREVIEW_ROWS = 5;

type Step = "source" | "mapping" | "run";

/** Follows one import: its progress frames and its status, until it finished (then its row errors). */
export function useImport(id: number | null) {
  const [status, setStatus] = useState<ImportStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (id === null) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const apply = (s: ImportProgress | ImportStatus) =>
      setStatus((known) => (known ? mergeProgress(known, s) : "errors" in s ? s : null));
    const poll = async () => {
      try {
        const s = await get<ImportStatus>(`/api/contacts/imports/${id}`);
        if (!alive) return;
        apply(s);
        setError(null);
        if (s.status === "running") timer = setTimeout(poll, POLL_MS);
      } catch (e) {
        if (!alive) return;
        setError((e as Error).message);
        timer = setTimeout(poll, POLL_MS * 3);
      }
    };
    const off = live.on("contact_import.progress", (f) => {
      const p = f.data as ImportProgress;
      if (p.id !== id) return;
      apply(p);
      // The end: read the status now for its row errors, rather than at the next poll.
      if (p.status !== "running") {
        clearTimeout(timer);
        void poll();
      }
    });
    void poll();
    return () => {
      alive = false;
      clearTimeout(timer);
      off();
    };
  }, [id]);
  return { status, error };
}

/** Paste or choose a CSV, see its first rows, map its columns, run it and follow it to the end. */
export function ImportWizard({ schema }: { schema: Schema }) {
  const viewer = me.value!;
  const [step, setStep] = useState<Step>("source");
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string | null>(null);
  const [session, setSession] = useState("");
  const [onDuplicate, setOnDuplicate] = useState<"skip" | "update">("skip");
  const [records, setRecords] = useState<CsvRecord[]>([]);
  const [mapping, setMapping] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [importId, setImportId] = useState<number | null>(null);
  const { status, error: followError } = useImport(importId);
  const attrNames = schema.attributes.map((a) => a.name);
  const targets = useMemo(() => [...TARGETS, ...attrNames.map((a) => `attr.${a}`)], [attrNames.join()]);
  const chosenSession = session || schema.sessions[0] || "";
  const total = Math.max(0, records.length - 1);

  if (!canWriteContacts(viewer.role))
    return <p class="notice">Agents read contacts but do not import them.</p>;

  const readSource = () => {
    const recs = parseCsv(text);
    if (recs.length < 2) {
      setError("The CSV needs a header row and at least one contact.");
      return;
    }
    setRecords(recs);
    setMapping(recs[0].cells.map((h) => guessTarget(h, attrNames)));
    setError(null);
    setStep("mapping");
  };

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await postCsv<{ id: number }>(
        withQuery("/api/contacts/imports", { session: chosenSession, on_duplicate: onDuplicate }),
        mappedCsv(records, mapping),
      );
      setImportId(r.id);
      setStep("run");
    } catch (e) {
      setError(formatErr(e));
    } finally {
      setBusy(false);
    }
  };

  const restart = () => {
    setStep("source");
    setText("");
    setFileName(null);
    setRecords([]);
    setImportId(null);
    setError(null);
  };

  const problems = mappingProblems(mapping);
  const header = records[0]?.cells ?? [];

  return (
    <section class="card contacts-import" aria-label="Import contacts">
      <ol class="contacts-steps">
        <li class={step === "source" ? "on" : ""}>1. The file</li>
        <li class={step === "mapping" ? "on" : ""}>2. Columns</li>
        <li class={step === "run" ? "on" : ""}>3. Import</li>
      </ol>
      {step === "source" && (
        <div class="stack">
          <label>
            CSV file
            <input
              type="file"
              accept=".csv,text/csv"
              onChange={async (e) => {
                const f = e.currentTarget.files?.[0];
                if (!f) return;
                setFileName(f.name);
                setText(await f.text());
              }}
            />
          </label>
          <label>
            Or paste the CSV
            <textarea rows={8} value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder={"phone,name,tags\n+447700900123,Ana,vip;newsletter"} />
          </label>
          {fileName && <p class="muted">{fileName}</p>}
          <div class="row">
            <label>
              Session
              <select value={chosenSession} onChange={(e) => setSession(e.currentTarget.value)}>
                {schema.sessions.map((s) => (
                  <option value={s}>{s}</option>
                ))}
              </select>
            </label>
            <fieldset class="contacts-dup">
              <legend>A number already a contact</legend>
              <label class="inline">
                <input type="radio" name="on_duplicate" checked={onDuplicate === "skip"} onChange={() => setOnDuplicate("skip")} />
                Skip the row
              </label>
              <label class="inline">
                <input type="radio" name="on_duplicate" checked={onDuplicate === "update"} onChange={() => setOnDuplicate("update")} />
                Update the contact
              </label>
            </fieldset>
          </div>
          <div class="row">
            <button type="button" class="primary" disabled={!text.trim() || !chosenSession} onClick={readSource}>
              Next: columns
            </button>
          </div>
        </div>
      )}
      {step === "mapping" && (
        <div class="stack">
          <p class="muted">
            {total} row{total === 1 ? "" : "s"}; the first {Math.min(PREVIEW_ROWS, total)} below. Choose what each column holds.
          </p>
          <div class="contacts-table-wrap">
            <table class="contacts-table" aria-label="Preview">
              <thead>
                <tr>
                  {header.map((h, i) => (
                    <th>
                      <label>
                        <span>{h || `column ${i + 1}`}</span>
                        <select
                          aria-label={`Column ${h || i + 1} maps to`}
                          value={mapping[i]}
                          onChange={(e) => {
                            const v = e.currentTarget.value;
                            setMapping((m) => m.map((x, j) => (j === i ? v : x)));
                          }}
                        >
                          <option value={IGNORE}>(ignore)</option>
                          {targets.map((t) => (
                            <option value={t}>{t}</option>
                          ))}
                        </select>
                      </label>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {records.slice(1, 1 + PREVIEW_ROWS).map((r) => (
                  <tr data-testid="preview-row">
                    {header.map((_, i) => (
                      <td>{r.cells[i] ?? ""}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {problems.map((p) => (
            <p class="error" data-testid="mapping-problem">
              {p}
            </p>
          ))}
          <div class="row">
            <button type="button" class="ghost" onClick={() => setStep("source")}>
              Back
            </button>
            <button type="button" class="primary" disabled={busy || problems.length > 0} onClick={() => void run()}>
              {busy ? "Uploading…" : `Import ${total} row${total === 1 ? "" : "s"}`}
            </button>
          </div>
        </div>
      )}
      {step === "run" && (
        <div class="stack">
          <progress
            class="contacts-progress"
            aria-label="Import progress"
            max={1}
            value={status ? fraction(status, total) : 0}
            data-testid="import-progress"
          />
          {status && (
            <p data-testid="import-counts" data-status={status.status}>
              {status.status === "running" ? `${done(status)} of ${total} rows…` : status.status === "completed" ? "Done: " : "Failed: "}
              {status.created} created · {status.updated} updated · {status.skipped} skipped · {status.failed} with errors
            </p>
          )}
          {status?.failure && (
            <p class="error" role="alert">
              {status.failure}
            </p>
          )}
          {status && status.status !== "running" && status.errors.length > 0 && (
            <div class="contacts-table-wrap">
              <table class="contacts-table" aria-label="Row errors">
                <thead>
                  <tr>
                    <th>Line</th>
                    <th>Field</th>
                    <th>Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {status.errors.map((e) => (
                    <tr data-testid="row-error">
                      <td>{e.line}</td>
                      <td>
                        <code>{e.field}</code>
                      </td>
                      <td>{e.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {status.errors_total > status.errors.length && (
                <p class="muted">The first {status.errors.length} of {status.errors_total} errors.</p>
              )}
            </div>
          )}
          {followError && <p class="error">{followError}</p>}
          {status && status.status !== "running" && (
            <div class="row">
              <button type="button" onClick={restart}>
                Import another file
              </button>
            </div>
          )}
        </div>
      )}
      {error && (
        <p class="error" role="alert" data-testid="import-error">
          {error}
        </p>
      )}
    </section>
  );
}
