// The report's hourly series as lines in plain SVG: a few dozen points need no library.

import type { SeriesPoint } from "./types";

export const SERIES = [
  { key: "sent", label: "Sent", color: "#0b7a5b" },
  { key: "delivered", label: "Delivered", color: "#2f6fd0" },
  { key: "read", label: "Read", color: "#8a4bd0" },
  { key: "replied", label: "Replied", color: "#d08a1f" },
  { key: "failed", label: "Failed", color: "#c0392b" },
] as const;

const W = 640;
const H = 200;
const PAD = { l: 36, r: 10, t: 10, b: 24 };

/** Points of one line, x by position in the series, y scaled to `max`. */
export function linePoints(values: number[], max: number): string {
  const n = values.length;
  const x = (i: number) => PAD.l + (n <= 1 ? 0 : (i * (W - PAD.l - PAD.r)) / (n - 1));
  const y = (v: number) => H - PAD.b - (max ? (v * (H - PAD.t - PAD.b)) / max : 0);
  return values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
}

const hour = (at: string) => {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
};

export function SeriesChart({ series }: { series: SeriesPoint[] }) {
  if (!series.length) return <p class="muted">Nothing sent yet.</p>;
  const max = Math.max(1, ...series.flatMap((p) => SERIES.map((s) => p[s.key])));
  return (
    <figure class="camp-chart" data-testid="report-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Messages per hour, ${series.length} hours`}>
        <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} stroke="#c8ced6" />
        <text x={PAD.l - 6} y={PAD.t + 8} text-anchor="end" font-size="11" fill="#667">
          {max}
        </text>
        <text x={PAD.l - 6} y={H - PAD.b} text-anchor="end" font-size="11" fill="#667">
          0
        </text>
        <text x={PAD.l} y={H - 6} font-size="11" fill="#667">
          {hour(series[0].at)}
        </text>
        {series.length > 1 && (
          <text x={W - PAD.r} y={H - 6} text-anchor="end" font-size="11" fill="#667">
            {hour(series[series.length - 1].at)}
          </text>
        )}
        {SERIES.map((s) => (
          <polyline
            data-series={s.key}
            points={linePoints(
              series.map((p) => p[s.key]),
              max,
            )}
            fill="none"
            stroke={s.color}
            stroke-width="2"
          />
        ))}
        {series.length === 1 &&
          SERIES.map((s) => <circle cx={PAD.l} cy={Number(linePoints([series[0][s.key]], max).split(",")[1])} r="3" fill={s.color} />)}
      </svg>
      <figcaption class="row">
        {SERIES.map((s) => (
          <span class="camp-legend">
            <span class="camp-swatch" style={{ background: s.color }} />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
