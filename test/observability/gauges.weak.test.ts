/**
 * The gauges' sources are held weakly: audit logs and trading state stores that the host forgot
 * are collected, and their registrations leave with them (observability off, nothing ever read).
 * Runs in a child Node process with `--expose-gc`, so that collection can be forced.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const script = `
const { AuditLog } = await import("./src/audit/core/log.ts");
const { createMemoryAuditStore } = await import("./src/audit/storage/memory.ts");
const { registerKillSwitchState, registeredSources } = await import("./src/observability/gauges.ts");
const kept = new AuditLog({ store: createMemoryAuditStore() });
for (let i = 0; i < 5000; i++) {
  new AuditLog({ store: createMemoryAuditStore() });
  registerKillSwitchState({ listActive: async () => [] });
}
const before = registeredSources();
for (let i = 0; i < 10; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 20));
}
process.stdout.write(JSON.stringify({ before, after: registeredSources(), kept: !!kept }));
`;

describe("gauge sources", () => {
  it("forgotten audit logs and state stores drop out of the gauges' registry", () => {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script],
      { cwd: root, encoding: "utf8" },
    );
    const r = JSON.parse(out) as {
      before: { auditQueues: number; killSwitchStates: number };
      after: { auditQueues: number; killSwitchStates: number };
    };
    expect(r.before.auditQueues).toBeGreaterThan(1000);
    expect(r.before.killSwitchStates).toBeGreaterThan(1000);
    // The one kept alive stays; (nearly) all the others are gone.
    expect(r.after.auditQueues).toBeGreaterThanOrEqual(1);
    expect(r.after.auditQueues).toBeLessThan(50);
    expect(r.after.killSwitchStates).toBeLessThan(50);
  });
});
