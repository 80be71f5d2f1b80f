/// <reference lib="dom" />
/** An activity chart over time: entries per day (or per hour for short histories), inline SVG. */
import { svg } from "./dom.js";
import type { HistoryRow } from "./history.js";

const W = 800;
const H = 160;
const PAD = { left: 40, right: 10, top: 10, bottom: 28 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Bucket counts of `rows` by time; hours when the span is under 3 days. */
export function bucketize(rows: readonly HistoryRow[]): {
  start: number;
  width: number;
  counts: number[];
} {
  if (rows.length === 0) return { start: 0, width: DAY, counts: [] };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    const t = Date.parse(r.ts);
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const width = max - min < 3 * DAY ? HOUR : DAY;
  const start = Math.floor(min / width) * width;
  const n = Math.min(Math.floor((max - start) / width) + 1, 2000);
  const counts = new Array<number>(n).fill(0);
  for (const r of rows) {
    const i = Math.min(Math.floor((Date.parse(r.ts) - start) / width), n - 1);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return { start, width, counts };
}

/** Draws the chart of `rows` into `into`. */
export function renderChart(rows: readonly HistoryRow[], into: HTMLElement): void {
  const { start, width, counts } = bucketize(rows);
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": "Number of recorded actions over time",
    class: "chart",
  });
  if (counts.length === 0) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "No entries to show"));
    into.replaceChildren(root);
    return;
  }
  const peak = Math.max(...counts);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const barW = plotW / counts.length;
  root.append(
    svg("line", {
      x1: PAD.left,
      y1: H - PAD.bottom,
      x2: W - PAD.right,
      y2: H - PAD.bottom,
      class: "axis",
    }),
    svg(
      "text",
      { x: PAD.left - 6, y: PAD.top + 10, "text-anchor": "end", class: "label" },
      String(peak),
    ),
    svg("text", { x: PAD.left - 6, y: H - PAD.bottom, "text-anchor": "end", class: "label" }, "0"),
  );
  counts.forEach((c, i) => {
    if (c === 0) return;
    const h = Math.max(1, (c / peak) * plotH);
    const bar = svg("rect", {
      x: PAD.left + i * barW,
      y: H - PAD.bottom - h,
      width: Math.max(1, barW - (barW > 3 ? 1 : 0)),
      height: h,
      class: "bar",
    });
    const label = new Date(start + i * width).toISOString();
    bar.append(
      svg(
        "title",
        {},
        `${width === DAY ? label.slice(0, 10) : `${label.slice(0, 13)}:00`} UTC: ${c} entries`,
      ),
    );
    root.append(bar);
  });
  const fmt = (t: number) => {
    const iso = new Date(t).toISOString();
    return width === DAY ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00`;
  };
  root.append(
    svg("text", { x: PAD.left, y: H - 8, class: "label" }, fmt(start)),
    svg(
      "text",
      { x: W - PAD.right, y: H - 8, "text-anchor": "end", class: "label" },
      fmt(start + (counts.length - 1) * width),
    ),
    svg(
      "text",
      { x: W / 2, y: H - 8, "text-anchor": "middle", class: "label" },
      width === DAY ? "entries per day (UTC)" : "entries per hour (UTC)",
    ),
  );
  into.replaceChildren(root);
}
