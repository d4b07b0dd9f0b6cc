import { useId, useMemo, useState } from "preact/hooks";
import "./hours.css";

/** Every IANA zone the browser knows; an older browser gets at least UTC and the zone it is in. */
export function allTimeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    const zones = intl.supportedValuesOf?.("timeZone");
    if (zones?.length) return zones.includes("UTC") ? zones : ["UTC", ...zones];
  } catch {
    /* fall through */
  }
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return here && here !== "UTC" ? ["UTC", here] : ["UTC"];
}

/** The zone a search means: a city that starts with it first ("lon" → Europe/London), else any that contains it. */
export function bestMatch(zones: string[], q: string): string | null {
  const needle = q.trim().toLowerCase().replace(/\s+/g, "_");
  if (!needle) return null;
  const city = (z: string) => z.slice(z.lastIndexOf("/") + 1).toLowerCase();
  return zones.find((z) => city(z).startsWith(needle)) ?? zones.find((z) => z.toLowerCase().includes(needle)) ?? null;
}

interface Props {
  value: string;
  onChange: (zone: string) => void;
  error: string | null;
}

/** A select of time zones with a search box that narrows it ("lon" → Europe/London). */
export function TimeZoneSelect({ value, onChange, error }: Props) {
  const zones = useMemo(allTimeZones, []);
  const id = useId();
  const [q, setQ] = useState("");
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase().replace(/\s+/g, "_");
    const found = needle ? zones.filter((z) => z.toLowerCase().includes(needle)) : zones;
    // The current zone stays selectable even when the search hides it (or the browser lacks it).
    return found.includes(value) ? found : [value, ...found];
  }, [zones, q, value]);
  return (
    <div class="hours-tz">
      <label>
        Search time zones
        <input
          type="search"
          value={q}
          placeholder="e.g. London"
          onInput={(e) => {
            const next = e.currentTarget.value;
            setQ(next);
            const first = bestMatch(zones, next);
            // Picking the best match as one types makes the search a real way to choose.
            if (first) onChange(first);
          }}
        />
      </label>
      {/* Not wrapping the select: its name would take in the chosen zone's text. */}
      <div class="hours-tz-pick">
        <label for={id}>Time zone</label>
        <select id={id} value={value} aria-invalid={error ? true : undefined} onChange={(e) => onChange(e.currentTarget.value)}>
          {shown.map((z) => (
            <option key={z} value={z}>
              {z.replace(/_/g, " ")}
            </option>
          ))}
        </select>
      </div>
      {error && <p class="error hours-error">{error}</p>}
    </div>
  );
}
