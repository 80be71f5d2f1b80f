/// <reference lib="dom" />
/** The history as a filterable, paged table, with the activity chart following the filter. */
import { renderChart } from "./chart.js";
import { byId, el, formatTs } from "./dom.js";
import type { HistoryRow } from "./history.js";

const PAGE = 100;

function matches(r: HistoryRow, text: string, action: string): boolean {
  if (action !== "" && r.action !== action) return false;
  if (text === "") return true;
  return [
    r.action,
    r.exchange,
    r.symbol,
    r.side,
    r.amount,
    r.price,
    r.details,
    r.actor,
    r.ts,
    String(r.seq),
  ]
    .join(" ")
    .toLowerCase()
    .includes(text);
}

function rowEl(r: HistoryRow, first: boolean): HTMLTableRowElement {
  const details = r.redacted
    ? el("span", {
        class: "redacted",
        text: "redacted — details erased on request; the entry still verifies",
      })
    : r.details;
  const tr = el(
    "tr",
    {
      class: r.verified ? "" : first ? "unverified first-broken" : "unverified",
      attrs: { "data-seq": String(r.seq) },
    },
    el("td", { class: "num", text: String(r.seq) }),
    el("td", { class: "time", text: formatTs(r.ts) }),
    el("td", { text: r.action }),
    el("td", { text: r.exchange }),
    el("td", { text: r.symbol }),
    el("td", { class: r.side ? `side ${r.side === "buy" ? "buy" : "sell"}` : "", text: r.side }),
    el("td", { class: "num", text: r.amount }),
    el("td", { class: "num", text: r.price }),
    el("td", { class: "details" }, details),
  );
  if (first)
    tr.firstElementChild?.append(el("strong", { class: "flag", text: " ✗ first problem" }));
  else if (!r.verified)
    tr.firstElementChild?.append(
      el("span", {
        class: "flag",
        text: " ⚠ not verified",
        attrs: { title: "not verified: at or after the first problem" },
      }),
    );
  return tr;
}

/** Shows `rows` in the page's history section, wiring the filter controls. */
export function renderHistory(rows: readonly HistoryRow[], omitted: number): void {
  const text = byId<HTMLInputElement>("filter-text");
  const action = byId<HTMLSelectElement>("filter-action");
  const body = byId<HTMLTableSectionElement>("history-body");
  const count = byId("history-count");
  const pager = byId("pager");
  const chart = byId("chart");
  const actions = [...new Set(rows.map((r) => r.action))].sort();
  action.replaceChildren(
    el("option", { text: "all actions", attrs: { value: "" } }),
    ...actions.map((a) => el("option", { text: a, attrs: { value: a } })),
  );
  text.value = "";
  let page = 0;
  let filtered: readonly HistoryRow[] = rows;
  const firstBroken = rows.find((r) => !r.verified);
  const draw = () => {
    const pages = Math.max(1, Math.ceil(filtered.length / PAGE));
    page = Math.min(page, pages - 1);
    body.replaceChildren(
      ...filtered.slice(page * PAGE, (page + 1) * PAGE).map((r) => rowEl(r, r === firstBroken)),
    );
    count.textContent = `${filtered.length} of ${rows.length} entries${omitted ? ` (${omitted} more verified but not listed)` : ""}`;
    const prev = el("button", { text: "← earlier", attrs: { type: "button" } });
    const next = el("button", { text: "later →", attrs: { type: "button" } });
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    prev.addEventListener("click", () => {
      page--;
      draw();
    });
    next.addEventListener("click", () => {
      page++;
      draw();
    });
    pager.replaceChildren(prev, el("span", { text: ` page ${page + 1} of ${pages} ` }), next);
  };
  const refilter = () => {
    const t = text.value.trim().toLowerCase();
    filtered =
      t === "" && action.value === "" ? rows : rows.filter((r) => matches(r, t, action.value));
    page = 0;
    draw();
    renderChart(filtered, chart);
  };
  text.oninput = refilter;
  action.onchange = refilter;
  refilter();
  // A broken history opens at its first problem, wherever it is in a large table.
  if (firstBroken !== undefined) {
    page = Math.floor(rows.indexOf(firstBroken) / PAGE);
    draw();
  }
}
