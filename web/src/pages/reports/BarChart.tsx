// Traffic in and out as grouped bars in plain SVG: 24 or 7 slots need no chart library
// (the campaign report draws its series the same way).

import type { InOut } from "./types";

/** The drawing's width: the weekday chart sits beside the hours chart at about the same text size. */
const widthFor = (slots: number) => (slots > 12 ? 640 : 420);
const H = 180;
const PAD = { l: 36, r: 8, t: 10, b: 22 };
export const BAR_COLORS = { in: "#2f6fd0", out: "#0b7a5b" } as const;

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The two bars of each slot, scaled so the tallest bar fills the plot. */
export function layoutBars(slots: InOut[]): { max: number; bars: { in: Bar; out: Bar }[] } {
  const W = widthFor(slots.length);
  const max = Math.max(1, ...slots.flatMap((s) => [s.in, s.out]));
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const slotW = slots.length ? plotW / slots.length : plotW;
  const barW = Math.max(1, slotW * 0.38);
  const bar = (v: number, x: number): Bar => {
    const height = (v / max) * plotH;
    return { x, y: PAD.t + plotH - height, width: barW, height };
  };
  return {
    max,
    bars: slots.map((s, i) => {
      const x0 = PAD.l + i * slotW + slotW * 0.12;
      return { in: bar(s.in, x0), out: bar(s.out, x0 + barW) };
    }),
  };
}

interface Props {
  title: string;
  slots: InOut[];
  /** One label per slot. */
  labels: string[];
  testid?: string;
}

export function BarChart({ title, slots, labels, testid }: Props) {
  const { max, bars } = layoutBars(slots);
  const W = widthFor(slots.length);
  const total = slots.reduce((n, s) => n + s.in + s.out, 0);
  const every = slots.length > 12 ? 3 : 1;
  const slotW = slots.length ? (W - PAD.l - PAD.r) / slots.length : 0;
  return (
    <figure class="rep-chart" data-testid={testid}>
      <figcaption class="rep-chart-head">
        <strong>{title}</strong>
        <span class="rep-legend">
          <span class="rep-swatch" style={{ background: BAR_COLORS.in }} /> in
        </span>
        <span class="rep-legend">
          <span class="rep-swatch" style={{ background: BAR_COLORS.out }} /> out
        </span>
      </figcaption>
      {total === 0 ? (
        <p class="muted">No messages in this period.</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${total} messages`}>
          <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} stroke="#c8ced6" />
          <text x={PAD.l - 6} y={PAD.t + 8} text-anchor="end" font-size="11" fill="#667">
            {max}
          </text>
          <text x={PAD.l - 6} y={H - PAD.b} text-anchor="end" font-size="11" fill="#667">
            0
          </text>
          {bars.map((b, i) => (
            <g data-slot={i}>
              <title>{`${labels[i]}: ${slots[i].in} in, ${slots[i].out} out`}</title>
              <rect data-dir="in" data-value={slots[i].in} x={b.in.x} y={b.in.y} width={b.in.width} height={b.in.height} fill={BAR_COLORS.in} />
              <rect data-dir="out" data-value={slots[i].out} x={b.out.x} y={b.out.y} width={b.out.width} height={b.out.height} fill={BAR_COLORS.out} />
              {i % every === 0 && (
                <text x={PAD.l + (i + 0.5) * slotW} y={H - 6} text-anchor="middle" font-size="11" fill="#667">
                  {labels[i]}
                </text>
              )}
            </g>
          ))}
        </svg>
      )}
    </figure>
  );
}
