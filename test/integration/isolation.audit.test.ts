import { describe, expect, it } from "vitest";
import { type AuditHandlers, auditHandlers } from "../../src/audit/access/handlers.js";
import { userChainId } from "../../src/audit/core/entry.js";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { runAs } from "../../src/guard/context.js";
import { assertIsolation, type IsolationSurface } from "../../src/guard/testing/index.js";
import { makeIdp } from "../vault/helpers.js";

/**
 * The isolation kit over the audit read/export handlers: user A must not read, export or verify
 * user B's chain, and a refusal must look exactly like a missing chain. With the guard switched off,
 * the audit module's own check (assertMayReadChain) must still hold.
 */
interface World {
  store: ReturnType<typeof createMemoryAuditStore>;
  handlers: AuditHandlers;
}

const idp = await makeIdp();
const users = { a: await idp.session("iso-audit-a"), b: await idp.session("iso-audit-b") };

const surface: IsolationSurface<World> = {
  name: "audit",
  users: () => users,
  world() {
    const store = createMemoryAuditStore();
    return { store, handlers: auditHandlers(new AuditLog({ store })) };
  },
  async seed(w, { a, b }) {
    const log = new AuditLog({ store: w.store });
    for (const [who, identity] of [
      ["A", a],
      ["B", b],
    ] as const) {
      await runAs(identity, async () => {
        await log.appendEntry(userChainId(identity.userId), {
          action: "parameter.changed",
          payload: { name: "grid.spacing", to: `CANARY-${who}-spacing` },
        });
        await log.appendEntry(userChainId(identity.userId), {
          action: "killswitch.fired",
          payload: { scope: "all", reason: `CANARY-${who}-reason` },
        });
      });
    }
    // The chain id is in only that user's data too: a verify result naming it is an observable
    // owner result, and B's chain id anywhere in A's result or error would be a leak.
    return {
      a: {
        ids: { "audit-chain": [userChainId(a.userId)] },
        canaries: ["CANARY-A-", userChainId(a.userId)],
      },
      b: {
        ids: { "audit-chain": [userChainId(b.userId)] },
        canaries: ["CANARY-B-", userChainId(b.userId)],
      },
    };
  },
  async snapshot(w) {
    const rows: string[] = [];
    for (const u of [users.a, users.b]) {
      for await (const e of w.store.read(userChainId(u.userId), 0))
        rows.push(`${e.body}|${e.payload}`);
    }
    return rows;
  },
  handlers: (w) => ({
    "audit.readChain": w.handlers.readChain,
    "audit.exportChain": w.handlers.exportChain,
    "audit.verifyChain": w.handlers.verifyChain,
  }),
  probes: {
    "audit.readChain": { ids: ["audit-chain"], args: (c: string) => [c] },
    "audit.exportChain": { ids: ["audit-chain"], args: (c: string) => [c, { format: "jsonl" }] },
    "audit.verifyChain": { ids: ["audit-chain"], args: (c: string) => [c] },
  },
};

describe("isolation kit over the audit handlers", () => {
  it("user A cannot read, export or verify user B's audit chain", async () => {
    const report = await assertIsolation(surface);
    expect(report.ok).toBe(true);
    expect(report.handlers.map((h) => h.kind)).toEqual(["owned", "owned", "owned"]);
  }, 120_000);

  it("the operator chain is not reachable through the user handlers", async () => {
    const w = surface.world({ record: () => undefined, effects: [] }) as World;
    await expect(runAs(users.a, () => w.handlers.readChain("operator"))).rejects.toMatchObject({
      code: "ERR_GUARD_NOT_FOUND",
    });
  });
});
