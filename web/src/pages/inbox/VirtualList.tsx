// A list that renders only the rows in view (plus a few either side), each of a fixed
// height, inside a spacer as tall as all of them: 10,000 rows cost as much as 20.

import type { ComponentChildren, Ref } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

interface Props<T> {
  items: T[];
  rowHeight: number;
  overscan?: number;
  /** Called when the last rendered row is within `overscan` rows of the end. */
  onNearEnd?: () => void;
  /** Index to keep in view (the selected row). */
  keepVisible?: number;
  renderRow: (item: T, index: number) => ComponentChildren;
  itemKey: (item: T) => string | number;
  label: string;
  class?: string;
  id?: string;
  scrollRef?: Ref<HTMLDivElement>;
}

/** happy-dom and a not-yet-laid-out element measure 0: assume a screenful. */
const FALLBACK_HEIGHT = 800;

export function VirtualList<T>(p: Props<T>) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(FALLBACK_HEIGHT);
  const overscan = p.overscan ?? 6;

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight || FALLBACK_HEIGHT);
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const el = box.current;
    const i = p.keepVisible;
    if (!el || i === undefined || i < 0) return;
    const rowTop = i * p.rowHeight;
    if (rowTop < el.scrollTop) el.scrollTop = rowTop;
    else if (rowTop + p.rowHeight > el.scrollTop + el.clientHeight && el.clientHeight > 0)
      el.scrollTop = rowTop + p.rowHeight - el.clientHeight;
  }, [p.keepVisible]);

  const n = p.items.length;
  const first = Math.max(0, Math.floor(top / p.rowHeight) - overscan);
  const last = Math.min(n, Math.ceil((top + height) / p.rowHeight) + overscan);

  useEffect(() => {
    if (p.onNearEnd && n > 0 && last >= n - overscan) p.onNearEnd();
  }, [last, n]);

  const rows: ComponentChildren[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div class="vl-row" key={p.itemKey(p.items[i]!)} style={{ transform: `translateY(${i * p.rowHeight}px)`, height: `${p.rowHeight}px` }}>
        {p.renderRow(p.items[i]!, i)}
      </div>,
    );
  }

  return (
    <div
      ref={(el) => {
        box.current = el;
        if (typeof p.scrollRef === "function") p.scrollRef(el);
        else if (p.scrollRef) p.scrollRef.current = el;
      }}
      class={`vl ${p.class ?? ""}`}
      id={p.id}
      role="listbox"
      aria-label={p.label}
      onScroll={(e) => setTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div class="vl-spacer" style={{ height: `${n * p.rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
