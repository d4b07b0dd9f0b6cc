import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";
import { errorAt, type FieldError } from "../../api/fieldErrors";
import { DAY_NAMES, DAYS, defaultHours, type Day, type Interval, type WeeklyHours } from "../../lib/hours";
import { TimeZoneSelect } from "./TimeZoneSelect";
import "./hours.css";

interface Props {
  /** The hub's name for the value (`working_hours`, `business_hours`): its 422s name paths under it. */
  field: string;
  legend: string;
  /** The checkbox that turns set hours on; off is `null`. */
  toggle: string;
  /** What the hours are used for, under the legend. */
  help?: ComponentChildren;
  value: WeeklyHours | null;
  onChange: (v: WeeklyHours | null) => void;
  /** The form's last refusal: shown here when its path is under `field`. */
  error: FieldError | null;
}

/**
 * Weekly hours: a time zone, each day's `HH:MM–HH:MM` intervals ("24:00" ends a day, which a
 * native time input cannot hold, hence text boxes) and holidays. An error is shown at the
 * input its path names; one naming no input shown here (`business_hours`) sits at the end.
 */
export function HoursEditor({ field, legend, toggle, help, value, onChange, error }: Props) {
  const id = useId();
  const at = (path: string) => errorAt(error, `${field}${path}`);
  const mine = error?.path === field || error?.path?.startsWith(`${field}.`) ? error : null;
  const setDay = (day: Day, intervals: Interval[]) => {
    const weekly = { ...value!.weekly };
    if (intervals.length) weekly[day] = intervals;
    else delete weekly[day];
    onChange({ ...value!, weekly });
  };
  const copyMonday = () => {
    const weekly = { ...value!.weekly };
    const mon = weekly.mon ?? [];
    for (const d of DAYS.slice(1, 5)) {
      if (mon.length) weekly[d] = mon.map((x) => [...x] as Interval);
      else delete weekly[d];
    }
    onChange({ ...value!, weekly });
  };
  return (
    <fieldset class="hours" data-testid={`hours-${field}`} aria-describedby={help ? `${id}-help` : undefined}>
      <legend>{legend}</legend>
      {help && (
        <p class="muted hours-help" id={`${id}-help`}>
          {help}
        </p>
      )}
      <label class="inline">
        <input type="checkbox" checked={value !== null} onChange={(e) => onChange(e.currentTarget.checked ? defaultHours() : null)} />
        {toggle}
      </label>
      {value && (
        <>
          <TimeZoneSelect value={value.time_zone} onChange={(time_zone) => onChange({ ...value, time_zone })} error={at(".time_zone")} />
          {at(".weekly") && <p class="error hours-error">{at(".weekly")}</p>}
          <ul class="hours-days">
            {DAYS.map((day) => (
              <DayRow key={day} day={day} intervals={value.weekly[day] ?? []} onChange={(iv) => setDay(day, iv)} errorAt={(i) => at(`.weekly.${day}[${i}]`)} />
            ))}
          </ul>
          <button type="button" class="small hours-copy" onClick={copyMonday}>
            Copy Monday to Tue–Fri
          </button>
          <Holidays
            id={`${id}-holidays`}
            dates={value.holidays ?? []}
            onChange={(holidays) => onChange({ ...value, holidays })}
            error={at(".holidays")}
            errorAt={(i) => at(`.holidays[${i}]`)}
          />
        </>
      )}
      {mine && !shownAt(mine.path!.slice(field.length), value) && (
        <p class="error hours-error" role="alert" data-testid={`error-${field}`}>
          {mine.message}
        </p>
      )}
    </fieldset>
  );
}

/** Whether the editor shows an error at `rest` (the path after the field's name) at an input of its own. */
function shownAt(rest: string, h: WeeklyHours | null): boolean {
  if (!h) return false;
  if ([".time_zone", ".weekly", ".holidays"].includes(rest)) return true;
  const iv = /^\.weekly\.(\w+)\[(\d+)\]$/.exec(rest);
  if (iv) return Number(iv[2]) < (h.weekly[iv[1] as Day]?.length ?? 0);
  const day = /^\.holidays\[(\d+)\]$/.exec(rest);
  return day !== null && Number(day[1]) < (h.holidays?.length ?? 0);
}

interface DayProps {
  day: Day;
  intervals: Interval[];
  onChange: (iv: Interval[]) => void;
  errorAt: (i: number) => string | null;
}

function DayRow({ day, intervals, onChange, errorAt }: DayProps) {
  const name = DAY_NAMES[day];
  const set = (i: number, end: 0 | 1, v: string) =>
    onChange(intervals.map((iv, j) => (j === i ? ((end === 0 ? [v, iv[1]] : [iv[0], v]) as Interval) : iv)));
  const last = intervals[intervals.length - 1];
  return (
    <li class="hours-day" data-day={day}>
      <span class="hours-day-name" title={name}>
        {name.slice(0, 3)}
      </span>
      <div class="hours-intervals">
        {intervals.length === 0 && <span class="muted">Closed</span>}
        {intervals.map((iv, i) => {
          const err = errorAt(i);
          return (
            <div class="hours-interval" key={i}>
              <TimeBox label={`${name} interval ${i + 1} from`} value={iv[0]} invalid={!!err} onInput={(v) => set(i, 0, v)} />
              <span aria-hidden="true">–</span>
              <TimeBox label={`${name} interval ${i + 1} to`} value={iv[1]} invalid={!!err} onInput={(v) => set(i, 1, v)} />
              <button type="button" class="ghost small" aria-label={`Remove ${name} interval ${i + 1}`} onClick={() => onChange(intervals.filter((_, j) => j !== i))}>
                ×
              </button>
              {err && <span class="error hours-error">{err}</span>}
            </div>
          );
        })}
      </div>
      <button
        type="button"
        class="small"
        aria-label={`Add hours on ${name}`}
        // A second interval usually follows the first (a lunch break): start it where the last ends.
        onClick={() => onChange([...intervals, last ? [last[1], last[1] < "17:00" ? "17:00" : "24:00"] : ["09:00", "17:00"]])}
      >
        + Hours
      </button>
    </li>
  );
}

function TimeBox({ label, value, invalid, onInput }: { label: string; value: string; invalid: boolean; onInput: (v: string) => void }) {
  return (
    <input
      class="hours-time"
      aria-label={label}
      value={value}
      placeholder="HH:MM"
      inputMode="numeric"
      maxLength={5}
      aria-invalid={invalid ? true : undefined}
      onInput={(e) => onInput(e.currentTarget.value)}
    />
  );
}

interface HolidaysProps {
  id: string;
  dates: string[];
  onChange: (d: string[]) => void;
  error: string | null;
  errorAt: (i: number) => string | null;
}

function Holidays({ id, dates, onChange, error, errorAt }: HolidaysProps) {
  return (
    <div class="hours-holidays" role="group" aria-labelledby={id}>
      <span id={id} class="hours-label">
        Holidays (closed all day)
      </span>
      {error && <p class="error hours-error">{error}</p>}
      <ul>
        {dates.map((d, i) => {
          const err = errorAt(i);
          return (
            <li key={i} class="hours-holiday" data-testid={`holiday-${i}`}>
              <input
                type="date"
                aria-label={`Holiday ${i + 1}`}
                value={d}
                aria-invalid={err ? true : undefined}
                onInput={(e) => onChange(dates.map((x, j) => (j === i ? e.currentTarget.value : x)))}
              />
              <button type="button" class="ghost small" aria-label={`Remove holiday ${i + 1}`} onClick={() => onChange(dates.filter((_, j) => j !== i))}>
                ×
              </button>
              {err && <span class="error hours-error">{err}</span>}
            </li>
          );
        })}
      </ul>
      <button type="button" class="small" onClick={() => onChange([...dates, ""])}>
        + Holiday
      </button>
    </div>
  );
}
