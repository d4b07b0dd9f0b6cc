// A list read a page at a time (newest first, "load more" by cursor), for the pages that
// show long logs.

import { useRef, useState } from "preact/hooks";
import type { Page } from "../api/http";

export function usePages<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The newest fetchPage (it closes over the caller's filters), without re-creating load.
  const fetcher = useRef(fetchPage);
  fetcher.current = fetchPage;

  /** `null`: the first page again (replacing what is shown); a cursor: the next page, appended. */
  const load = async (after: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const page = await fetcher.current(after);
      setItems((old) => (after ? [...old, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return { items, setItems, cursor, busy, error, load };
}
