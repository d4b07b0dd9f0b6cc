import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { del } from "../../api/http";
import { fieldError } from "../../api/fieldErrors";
import { byFiringOrder, move, priorityForNew, saveOrder, withPriorities } from "./order";
import type { PreviewVars } from "./template";
import { TriggerForm, type NewTrigger } from "./TriggerForm";
import { TriggerSummary } from "./TriggerSummary";
import type { Trigger } from "./types";

interface Props {
  botId: number;
  triggers: Trigger[];
  onChange: (ts: Trigger[]) => void;
  /** Read the triggers again from the hub (after a refused reorder: the list shown is not the hub's). */
  onReload: () => void;
  /** The trigger the tester last saw fire. */
  matchedId: number | null;
  vars: PreviewVars;
  /** Matches and handoffs per trigger over the last 30 days (GET /api/bots/{id}/metrics). */
  figures?: { trigger_id: number; matches: number; handoffs: number }[];
}

/** The triggers in firing order (highest priority first); drag, or Move up/down, to reorder. */
export function TriggerList({ botId, triggers, onChange, onReload, matchedId, vars, figures }: Props) {
  const ordered = [...triggers].sort(byFiringOrder);
  const [openId, setOpenId] = useState<number | null>(null);
  const [adding, setAdding] = useState<NewTrigger | null>(null);
  const [confirmId, setConfirmId] = useState<number | null>(null);
  const [status, setStatus] = useState("");
  const [saving, setSaving] = useState(false);
  const [over, setOver] = useState<number | null>(null);
  // Not in dataTransfer alone: some browsers hide its data until the drop.
  const dragFrom = useRef<number | null>(null);
  // Which move button to focus again once the list re-rendered: keyboard users keep their place.
  const refocus = useRef<{ id: number; dir: "up" | "down" } | null>(null);
  const savingNow = useRef(false);
  const root = useRef<HTMLElement>(null);

  useLayoutEffect(() => {
    const r = refocus.current;
    if (!r) return;
    refocus.current = null;
    const button = (dir: string) => root.current?.querySelector<HTMLButtonElement>(`[data-move="${dir}"][data-for="${r.id}"]`);
    const b = button(r.dir);
    // At the top (or bottom) that button is disabled: the other one keeps the focus in the row.
    (b && !b.disabled ? b : button(r.dir === "up" ? "down" : "up"))?.focus();
  });

  const reorder = async (from: number, to: number) => {
    if (savingNow.current) return;
    const next = move(ordered, from, to);
    if (next === ordered) return;
    savingNow.current = true;
    onChange(withPriorities(next));
    setSaving(true);
    setStatus("Saving the order…");
    try {
      onChange(await saveOrder(botId, next));
      setStatus(`Order saved: ${next.map((t, i) => `${i + 1}. #${t.id}`).join(", ")}`);
    } catch (e) {
      setStatus(`The order was not saved: ${fieldError(e).message}`);
      onReload();
    } finally {
      savingNow.current = false;
      setSaving(false);
    }
  };

  const remove = async (id: number) => {
    try {
      await del(`/api/triggers/${id}`);
      onChange(triggers.filter((t) => t.id !== id));
      setStatus("Trigger deleted");
    } catch (e) {
      setStatus(`Not deleted: ${fieldError(e).message}`);
    }
    setConfirmId(null);
  };

  const saved = (t: Trigger) => {
    const exists = triggers.some((x) => x.id === t.id);
    onChange(exists ? triggers.map((x) => (x.id === t.id ? t : x)) : [...triggers, t]);
    setOpenId(null);
    setAdding(null);
    setStatus(`Trigger #${t.id} ${exists ? "saved" : "added"}`);
  };

  return (
    <section class="card stack bots-triggers" aria-labelledby="bots-triggers-h" ref={root}>
      <div class="row bots-section-head">
        <h2 id="bots-triggers-h">Triggers</h2>
        <span class="muted">The first that matches fires. Drag to reorder.</span>
      </div>
      {ordered.length === 0 && !adding && <p class="muted">No triggers yet: the bot only greets, falls back and hands over.</p>}
      <ol class="bots-trigger-list" data-testid="trigger-list">
        {ordered.map((t, i) => (
          <li
            key={t.id}
            class={`bots-trigger${t.id === matchedId ? " bots-trigger-matched" : ""}${over === i ? " bots-drop" : ""}`}
            data-trigger-id={t.id}
            data-testid={`trigger-${t.id}`}
            aria-current={t.id === matchedId ? "true" : undefined}
            onDragOver={(e) => {
              if (dragFrom.current === null) return;
              e.preventDefault(); // allows the drop
              if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
              setOver(i);
            }}
            onDragLeave={() => setOver((o) => (o === i ? null : o))}
            onDrop={(e) => {
              e.preventDefault();
              const from = dragFrom.current;
              dragFrom.current = null;
              setOver(null);
              if (from !== null && !saving) void reorder(from, i);
            }}
          >
            <TriggerSummary
              trigger={t}
              rank={i + 1}
              matched={t.id === matchedId}
              figures={figures?.find((f) => f.trigger_id === t.id)}
              first={i === 0}
              last={i === ordered.length - 1}
              busy={saving}
              open={openId === t.id}
              onDragStart={(e) => {
                dragFrom.current = i;
                e.dataTransfer?.setData("text/plain", String(t.id));
                if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
              }}
              onDragEnd={() => {
                dragFrom.current = null;
                setOver(null);
              }}
              onMove={(dir) => {
                refocus.current = { id: t.id, dir };
                void reorder(i, dir === "up" ? i - 1 : i + 1);
              }}
              onToggle={() => setOpenId(openId === t.id ? null : t.id)}
              onDelete={() => setConfirmId(t.id)}
            />
            {confirmId === t.id && (
              <div class="row bots-confirm" role="group" aria-label="Confirm deletion">
                <span>Delete this trigger?</span>
                <button type="button" class="danger small" onClick={() => void remove(t.id)}>
                  Delete trigger
                </button>
                <button type="button" class="small" onClick={() => setConfirmId(null)}>
                  Keep
                </button>
              </div>
            )}
            {openId === t.id && <TriggerForm trigger={t} vars={vars} onSaved={saved} onCancel={() => setOpenId(null)} />}
          </li>
        ))}
        {adding && (
          <li class="bots-trigger bots-trigger-new">
            <TriggerForm trigger={adding} vars={vars} onSaved={saved} onCancel={() => setAdding(null)} />
          </li>
        )}
      </ol>
      {!adding && (
        <div>
          <button type="button" onClick={() => setAdding({ id: null, bot_id: botId, priority: priorityForNew(triggers) })}>
            + Add trigger
          </button>
        </div>
      )}
      <p class="muted bots-status" role="status" aria-live="polite" data-testid="trigger-status">
        {status}
      </p>
    </section>
  );
}
