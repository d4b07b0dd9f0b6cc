import { useEffect, useState } from "preact/hooks";
import { get } from "../../api/http";
import { reportUrl, type Range, type ReportKind } from "./query";

export interface Loaded<T> {
  data: T | null;
  loading: boolean;
  /** The hub's message (a 422 names what is wrong with the range). */
  error: string | null;
}

/** One report for a range, read again whenever the range changes; stale answers are dropped. */
export function useReport<T>(kind: ReportKind, range: Range): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: null, loading: true, error: null });
  const url = reportUrl(kind, range);
  useEffect(() => {
    let alive = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    get<T>(url).then(
      (data) => alive && setState({ data, loading: false, error: null }),
      (e) => {
        if (!alive) return;
        // The hub's 422 message names the parameter ("from: the period is empty: …").
        setState({ data: null, loading: false, error: (e as Error).message });
      },
    );
    return () => {
      alive = false;
    };
  }, [url]);
  return state;
}
