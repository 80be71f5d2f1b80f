import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BEGIN, END, renderModels, spliceDoc } from "../../scripts/permissions-doc.js";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";

const doc = readFileSync(new URL("../../docs/permissions.md", import.meta.url), "utf8");
const models = Object.values(EXCHANGE_SPECS).map((s) => s.model);

describe("docs/permissions.md permission models", () => {
  it("the generated block matches the code's tables (run npx tsx scripts/gen-permissions-doc.ts)", () => {
    expect(doc).toContain(BEGIN);
    expect(doc).toContain(END);
    expect(spliceDoc(doc, renderModels(models))).toBe(doc);
  });
  it("a changed table makes the doc stale", () => {
    const first = models[0];
    if (!first) throw new Error("no models");
    const changed = [{ ...first, values: first.values.slice(1) }, ...models.slice(1)];
    expect(spliceDoc(doc, renderModels(changed))).not.toBe(doc);
  });
});
