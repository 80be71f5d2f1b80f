/**
 * An AuditLog nobody references is collectable at once, even before the microtask queue has
 * drained: a promise-driven loop that creates logs (a benchmark, a batch job over many stores)
 * must not keep every store and its entries alive until it yields to the event loop. Runs in a
 * child Node process with `--expose-gc`, so that collection can be forced mid-job.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const script = `
const { AuditLog } = await import("./src/audit/core/log.ts");
const { createMemoryAuditStore } = await import("./src/audit/storage/memory.ts");
const { hostIdentity, runAs } = await import("./src/guard/index.ts");
const actor = hostIdentity("gc");
const big = "x".repeat(200_000);
globalThis.gc();
const base = process.memoryUsage().heapUsed;
// One job: every await below settles through microtasks only (the memory store does no I/O).
let grown = 0;
await (async () => {
  for (let i = 0; i < 200; i++) {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    await runAs(actor, () =>
      log.appendEntry("user:gc", { action: "parameter.changed", payload: { name: "p", to: big + i } }),
    );
  }
  globalThis.gc();
  grown = process.memoryUsage().heapUsed - base;
})();
process.stdout.write(JSON.stringify({ grownMiB: grown / 2 ** 20 }));
`;

describe("AuditLog lifetime", () => {
  it("a forgotten log and its store are collectable before the current job ends", () => {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script],
      { cwd: root, encoding: "utf8" },
    );
    const r = JSON.parse(out) as { grownMiB: number };
    // 200 stores of ~0.4 MiB each would be ~80 MiB if they were all kept.
    expect(r.grownMiB).toBeLessThan(16);
  });
});
