/**
 * Prints a Markdown summary of the permission models and their response fixtures, one row per
 * exchange: status, documented permission values, of which `unknown`, transfer paths, fixture
 * count (test/permissions/fixtures/<exchange>/*.json) and the primary documentation URLs the
 * model cites. Run `npx tsx scripts/permissions-table.ts`; it reads only, and prints to stdout.
 */
import { existsSync, readdirSync } from "node:fs";
import { EXCHANGE_SPECS } from "../src/permissions/exchanges/index.js";
import type { Citation, PermissionModel } from "../src/permissions/exchanges/model.js";

const FIXTURES = new URL("../test/permissions/fixtures/", import.meta.url);

/** Number of fixture files in the exchange's folder (0 when it has none). */
function fixtureCount(exchange: string): number {
  const dir = new URL(`${exchange}/`, FIXTURES);
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((f) => f.endsWith(".json")).length;
}

/** Every distinct primary URL the model cites (values, transfer paths, account rules), sorted. */
function primaryUrls(m: PermissionModel): string[] {
  const cites: Citation[] = [
    ...m.values.map((v) => v.cite),
    ...m.transferPaths.map((t) => t.cite),
    ...m.accountRules.map((r) => r.cite),
  ];
  return [...new Set(cites.filter((c) => c.kind === "primary").map((c) => c.url))].sort();
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

const rows = [
  "| exchange | status | documented values | of which unknown | transfer paths | fixtures | primary doc URLs |",
  "|---|---|---|---|---|---|---|",
];
for (const [id, spec] of Object.entries(EXCHANGE_SPECS)) {
  const m = spec.model;
  const unknown = m.values.filter((v) => v.grants.includes("unknown")).length;
  const urls = primaryUrls(m);
  rows.push(
    `| ${id} | ${spec.status} | ${m.values.length} | ${unknown} | ${m.transferPaths.length} | ${fixtureCount(id)} | ${urls.length ? urls.map(cell).join("<br>") : "none"} |`,
  );
}
process.stdout.write(`${rows.join("\n")}\n`);
