import { errorAt, type FieldError } from "../../api/fieldErrors";
import { TimeZoneSelect } from "./TimeZoneSelect";
import { DAY_NAMES, DAYS, type BusinessHours, type Day, type Interval } from "./types";

interface Props {
  value: BusinessHours | null;
  onChange: (v: BusinessHours | null) => void;
  error: FieldError | null;
}

const FIELD = "business_hours";

export function defaultHours(): BusinessHours {
  const nineToFive: Interval[] = [["09:00", "17:00"]];
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  return {
    time_zone: tz,
    weekly: { mon: nineToFive, tue: nineToFive, wed: nineToFive, thu: nineToFive, fri: nineToFive },
    holidays: [],
  };
}

/** The time zone, each day's `HH:MM–HH:MM` intervals, and the holidays; null means always open. */
export function BusinessHoursEditor({ value, onChange, error }: Props) {
  const on = value !== null;
  const setDay = (day: Day, intervals: Interval[]) => {
    const weekly = { ...value!.weekly };
    if (intervals.length) weekly[day] = intervals;
    else delete weekly[day];
    onChange({ ...value!, weekly });
  };
  const setHolidays = (holidays: string[]) => onChange({ ...value!, holidays });
  return (
    <fieldset class="bots-hours" data-testid="business-hours">
      <legend>Business hours</legend>
      <label class="inline">
        <input type="checkbox" checked={on} onChange={(e) => onChange(e.currentTarget.checked ? defaultHours() : null)} />
        Only open at set hours (otherwise always open)
      </label>
      {on && (
        <>
          <TimeZoneSelect
            value={value.time_zone}
            onChange={(time_zone) => onChange({ ...value, time_zone })}
            error={errorAt(error, `${FIELD}.time_zone`)}
          />
          {errorAt(error, `${FIELD}.weekly`) && <p class="error bots-field-error">{errorAt(error, `${FIELD}.weekly`)}</p>}
          <ul class="bots-days">
            {DAYS.map((day) => (
              <DayRow key={day} day={day} intervals={value.weekly[day] ?? []} onChange={(iv) => setDay(day, iv)} error={error} />
            ))}
          </ul>
          <Holidays dates={value.holidays} onChange={setHolidays} error={error} />
        </>
      )}
    </fieldset>
  );
}

function DayRow({ day, intervals, onChange, error }: { day: Day; intervals: Interval[]; onChange: (iv: Interval[]) => void; error: FieldError | null }) {
  const name = DAY_NAMES[day];
  const set = (i: number, end: 0 | 1, v: string) =>
    onChange(intervals.map((iv, j) => (j === i ? ((end === 0 ? [v, iv[1]] : [iv[0], v]) as Interval) : iv)));
  const last = intervals[intervals.length - 1];
  return (
    <li class="bots-day" data-day={day}>
      <span class="bots-day-name">{name}</span>
      <div class="bots-intervals">
        {intervals.length === 0 && <span class="muted">Closed</span>}
        {intervals.map((iv, i) => {
          const err = errorAt(error, `${FIELD}.weekly.${day}[${i}]`);
          return (
            <div class="bots-interval" key={i}>
              <input
                class="bots-time"
                aria-label={`${name} interval ${i + 1} from`}
                value={iv[0]}
                placeholder="HH:MM"
                inputMode="numeric"
                maxLength={5}
                aria-invalid={err ? true : undefined}
                onInput={(e) => set(i, 0, e.currentTarget.value)}
              />
              <span aria-hidden="true">–</span>
              <input
                class="bots-time"
                aria-label={`${name} interval ${i + 1} to`}
                value={iv[1]}
                placeholder="HH:MM"
                inputMode="numeric"
                maxLength={5}
                aria-invalid={err ? true : undefined}
                onInput={(e) => set(i, 1, e.currentTarget.value)}
              />
              <button type="button" class="ghost small" aria-label={`Remove ${name} interval ${i + 1}`} onClick={() => onChange(intervals.filter((_, j) => j !== i))}>
                ×
              </button>
              {err && <span class="error bots-field-error">{err}</span>}
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

function Holidays({ dates, onChange, error }: { dates: string[]; onChange: (d: string[]) => void; error: FieldError | null }) {
  return (
    <div class="bots-holidays" role="group" aria-labelledby="bots-holidays-label">
      <span id="bots-holidays-label" class="bots-label">
        Holidays (closed all day)
      </span>
      {errorAt(error, `${FIELD}.holidays`) && <p class="error bots-field-error">{errorAt(error, `${FIELD}.holidays`)}</p>}
      <ul>
        {dates.map((d, i) => {
          const err = errorAt(error, `${FIELD}.holidays[${i}]`);
          return (
            <li key={i} class="bots-holiday" data-testid={`holiday-${i}`}>
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
              {err && <span class="error bots-field-error">{err}</span>}
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
