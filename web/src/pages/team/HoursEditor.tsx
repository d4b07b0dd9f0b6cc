import { DAYS, type Day, type WeeklyHours } from "./types";

const DAY_LABEL: Record<Day, string> = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };

const zones = (): string[] => {
  const f = (Intl as any).supportedValuesOf;
  return typeof f === "function" ? f("timeZone") : ["UTC", "Europe/London", "Europe/Paris", "America/New_York"];
};

export const defaultHours = (): WeeklyHours => ({
  time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  weekly: Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, [["09:00", "17:00"]]])),
});

interface Props {
  value: WeeklyHours | null;
  onChange: (v: WeeklyHours | null) => void;
  error?: string;
}

/** Working hours: a time zone and, per weekday, any number of from–to intervals. */
export function HoursEditor({ value, onChange, error }: Props) {
  const setDay = (d: Day, list: [string, string][]) => {
    const weekly = { ...value!.weekly };
    if (list.length) weekly[d] = list;
    else delete weekly[d];
    onChange({ ...value!, weekly });
  };
  return (
    <fieldset class="team-hours" aria-describedby={error ? "team-err-working_hours" : undefined}>
      <legend>Working hours</legend>
      <label class="inline">
        <input
          type="checkbox"
          checked={value !== null}
          onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? defaultHours() : null)}
        />
        Works set hours (routing skips them outside these)
      </label>
      {value && (
        <>
          <label>
            Time zone
            <input
              list="team-zones"
              value={value.time_zone}
              onInput={(e) => onChange({ ...value, time_zone: (e.currentTarget as HTMLInputElement).value })}
            />
            <datalist id="team-zones">
              {zones().map((z) => (
                <option value={z} />
              ))}
            </datalist>
          </label>
          <div class="team-hours-grid" role="group" aria-label="Weekly hours">
            {DAYS.map((d) => {
              const list = value.weekly[d] ?? [];
              return (
                <div class="team-hours-day" data-testid={`hours-${d}`}>
                  <span class="team-hours-name">{DAY_LABEL[d]}</span>
                  <div class="team-hours-intervals">
                    {list.length === 0 && <span class="muted">off</span>}
                    {list.map(([from, to], i) => (
                      <span class="team-hours-interval">
                        <input
                          type="time"
                          aria-label={`${DAY_LABEL[d]} interval ${i + 1} from`}
                          value={from}
                          onInput={(e) =>
                            setDay(d, list.map((x, j) => (j === i ? [(e.currentTarget as HTMLInputElement).value, x[1]] : x)))
                          }
                        />
                        –
                        <input
                          type="time"
                          aria-label={`${DAY_LABEL[d]} interval ${i + 1} to`}
                          value={to === "24:00" ? "23:59" : to}
                          onInput={(e) =>
                            setDay(d, list.map((x, j) => (j === i ? [x[0], (e.currentTarget as HTMLInputElement).value] : x)))
                          }
                        />
                        <button
                          type="button"
                          class="ghost small"
                          aria-label={`Remove ${DAY_LABEL[d]} interval ${i + 1}`}
                          onClick={() => setDay(d, list.filter((_, j) => j !== i))}
                        >
                          ✕
                        </button>
                      </span>
                    ))}
                    <button
                      type="button"
                      class="ghost small"
                      aria-label={`Add an interval on ${DAY_LABEL[d]}`}
                      onClick={() => setDay(d, [...list, list.length ? ["13:00", "17:00"] : ["09:00", "17:00"]])}
                    >
                      + Add
                    </button>
                  </div>
                </div>
              );
            })}
          </div>
          <button
            type="button"
            class="small"
            onClick={() => {
              const mon = value.weekly.mon ?? [];
              const weekly = { ...value.weekly };
              for (const d of DAYS.slice(1, 5)) weekly[d] = mon.map((x) => [...x] as [string, string]);
              onChange({ ...value, weekly });
            }}
          >
            Copy Monday to Tue–Fri
          </button>
        </>
      )}
      {error && (
        <p class="error" id="team-err-working_hours" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
