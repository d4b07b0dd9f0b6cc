import { useMemo } from "preact/hooks";
import { browserZone, PRESETS, presetOf, presetRange, zones, type Range } from "./query";

interface Props {
  range: Range;
  onChange: (r: Range) => void;
  /** The sessions to filter by (empty: no filter shown). */
  sessions: string[];
}

/** From/to dates with presets, the time zone the days are read in, and one session or all. */
export function RangePicker({ range, onChange, sessions }: Props) {
  const tzs = useMemo(() => zones(range.tz, browserZone()), [range.tz]);
  const pressed = presetOf(range);
  const set = (patch: Partial<Range>) => onChange({ ...range, ...patch });
  return (
    <div class="card rep-range" role="group" aria-label="Period">
      <div class="row rep-presets">
        {PRESETS.map((p) => (
          <button
            type="button"
            class={`small ${pressed === p.id ? "primary" : ""}`}
            aria-pressed={pressed === p.id}
            onClick={() => set(presetRange(p.id, range.tz))}
          >
            {p.label}
          </button>
        ))}
      </div>
      <div class="row rep-fields">
        <label>
          From
          <input type="date" value={range.from} required onChange={(e) => set({ from: e.currentTarget.value })} />
        </label>
        <label>
          To
          <input type="date" value={range.to} required onChange={(e) => set({ to: e.currentTarget.value })} />
        </label>
        <label>
          Time zone
          <select value={range.tz} onChange={(e) => e.currentTarget.value && set({ tz: e.currentTarget.value })}>
            {tzs.map((z) => (
              <option value={z}>{z}</option>
            ))}
          </select>
        </label>
        {sessions.length > 0 && (
          <label>
            Session
            <select value={range.session} onChange={(e) => set({ session: e.currentTarget.value })}>
              <option value="">All sessions</option>
              {sessions.map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
          </label>
        )}
      </div>
    </div>
  );
}
