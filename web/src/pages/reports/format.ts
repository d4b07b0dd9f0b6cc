import { duration } from "../../lib/format";

/** A duration figure: "17 h", "5 min", "4 s"; "–" where there is none (nothing measured). */
export const secs = (s: number | null | undefined) => (s === null || s === undefined ? "–" : duration(Math.round(s)));

/** A 0–1 share as "42 %"; "–" where there is none. */
export const rate = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : `${Math.round(x * 100)} %`;

export const HOURS = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0"));
export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
