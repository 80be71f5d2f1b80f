/**
 * A trading client nobody references is collectable at once, even before the microtask queue has
 * drained. The client registers its kill-switch state store for the active-switch gauge through a
 * WeakRef, and the engine keeps a WeakRef's target alive until the current job's microtasks have
 * all run; the audit gauge once registered its log that way and kept every log, store and entry
 * of a promise-driven loop alive. Here the registered target is the state store itself, which
 * references nothing of the client: the client, its vault, audit log and exchange instances must
 * not be kept. Runs in a child Node process with `--expose-gc`, so that collection can be forced
 * mid-job.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const script = (sharedState: boolean) => `
const { randomBytes } = await import("node:crypto");
const { AuditLog } = await import("./src/audit/core/log.ts");
const { createMemoryAuditStore } = await import("./src/audit/storage/memory.ts");
const { hostIdentity, runAs } = await import("./src/guard/index.ts");
const { registeredSources } = await import("./src/observability/gauges.ts");
const { Secret } = await import("./src/secret.ts");
const { createTradingClient } = await import("./src/trading/client.ts");
const { createMemoryTradingState } = await import("./src/trading/state.ts");
const { createVault } = await import("./src/vault/core/vault.ts");
const { LocalKms } = await import("./src/vault/kms/local.ts");
const { MemoryCredentialStore } = await import("./src/vault/stores/memory.ts");
const shared = createMemoryTradingState();
globalThis.gc();
const base = process.memoryUsage().heapUsed;
let grown = 0;
let sources = 0;
// One job: every await below settles through microtasks only (memory stores, no I/O).
await (async () => {
  for (let i = 0; i < 150; i++) {
    // ~0.5 MiB on the heap held by the client only (through its exchange factory).
    const ballast = new Array(64_000).fill(i);
    const client = createTradingClient({
      vault: createVault({
        kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
        store: new MemoryCredentialStore(),
      }),
      audit: new AuditLog({ store: createMemoryAuditStore() }),
      state: ${sharedState ? "shared" : "createMemoryTradingState()"},
      exchanges: () => ({ ballast }),
    });
    const userId = "user-" + i;
    await runAs(hostIdentity(userId), () => client.fireKillSwitch(userId, "drill"));
  }
  sources = registeredSources().killSwitchStates;
  globalThis.gc();
  grown = process.memoryUsage().heapUsed - base;
})();
process.stdout.write(JSON.stringify({ grownMiB: grown / 2 ** 20, sources }));
`;

function run(sharedState: boolean): { grownMiB: number; sources: number } {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script(sharedState)],
    { cwd: root, encoding: "utf8" },
  );
  return JSON.parse(out) as { grownMiB: number; sources: number };
}

describe("trading client lifetime", () => {
  it("forgotten clients are collectable before the current job ends (a state store each)", () => {
    const r = run(false);
    // 150 clients holding ~0.5 MiB each would be ~73 MiB if the registration kept them.
    expect(r.grownMiB).toBeLessThan(16);
    expect(r.sources).toBeGreaterThanOrEqual(150);
  });

  it("forgotten clients sharing one state store are collectable, and the store is registered once", () => {
    const r = run(true);
    expect(r.grownMiB).toBeLessThan(16);
    expect(r.sources).toBeLessThan(5);
  });
});
