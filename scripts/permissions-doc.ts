/**
 * Renders the per-exchange permission models (src/permissions/exchanges/*.model.ts, through
 * EXCHANGE_SPECS) into the generated block of docs/permissions.md. Run
 * `npx tsx scripts/gen-permissions-doc.ts` after changing a model; a test fails when the doc is stale.
 */
import type { Citation, PermissionModel } from "../src/permissions/exchanges/model.js";

export const BEGIN =
  "<!-- BEGIN GENERATED: permission models (npx tsx scripts/gen-permissions-doc.ts) -->";
export const END = "<!-- END GENERATED: permission models -->";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const link = (url: string, text: string) => `[${cell(text)}](${url})`;
/** A citation as Markdown: the linked section, whether third-party, and its verbatim quote. */
const source = (c: Citation) =>
  `${link(c.url, c.section)}${c.kind === "third-party" ? " (third-party)" : ""}${c.quote ? `: “${cell(c.quote)}”` : ""}`;

/** The Markdown for the models, in the order given. */
export function renderModels(models: readonly PermissionModel[]): string {
  const out: string[] = [BEGIN, ""];
  out.push("| exchange | status | values | of which unknown | transfer paths | read-back |");
  out.push("|---|---|---|---|---|---|");
  for (const m of models) {
    const unknown = m.values.filter((v) => v.grants.includes("unknown")).length;
    out.push(
      `| ${m.exchange} | ${m.status} | ${m.values.length} | ${unknown} | ${m.transferPaths.length} | ${m.endpoint ? `\`${m.endpoint}\`` : "none"} |`,
    );
  }
  for (const m of models) {
    out.push("", `### ${m.exchange} (${m.status})`, "");
    out.push(`Read-back: ${m.endpoint ? `\`${m.endpoint}\`` : "none"}.`, "");
    if (m.values.length > 0) {
      out.push("| value | field | grants | fund-moving endpoints | source | note |");
      out.push("|---|---|---|---|---|---|");
      for (const v of m.values) {
        out.push(
          `| \`${cell(v.value)}\` | \`${cell(v.field)}\` | ${v.grants.join(", ")} | ${v.fundMovingEndpoints.map((e) => `\`${cell(e)}\``).join("<br>")} | ${source(v.cite)} | ${cell(v.note ?? "")} |`,
        );
      }
      out.push("");
    }
    if (m.transferPaths.length > 0) {
      out.push("Ways funds leave the account:", "");
      for (const t of m.transferPaths) {
        out.push(
          `- \`${cell(t.endpoint)}\` — ${t.moves}; needs ${t.requires.length ? t.requires.map((r) => `\`${r}\``).join(" or ") : "(no readable permission)"} (${source(t.cite)})`,
        );
      }
      out.push("");
    }
    for (const r of m.accountRules) out.push(`- Rule: ${r.rule} (${source(r.cite)})`);
    for (const n of m.notes ?? []) out.push(`- Note: ${n}`);
  }
  out.push("", END);
  return out.join("\n");
}

/** `doc` with its generated block replaced (appended when absent). */
export function spliceDoc(doc: string, block: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a)
    return `${doc.trimEnd()}\n\n## Permission models per exchange (generated)\n\n${block}\n`;
  return doc.slice(0, a) + block + doc.slice(b + END.length);
}
