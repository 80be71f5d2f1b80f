import { describe, expect, it } from "vitest";
import { OPERATOR_CHAIN_ID, userChainId } from "../../src/audit/core/entry.js";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { runAs } from "../../src/guard/context.js";
import { hostIdentity, type Identity, operatorIdentity } from "../../src/guard/identity.js";
import {
  type EmergencyVault,
  emergencyRevokeAll,
  type RotateKeysNotice,
} from "../../src/trading/emergency.js";
import { createMemoryTradingState } from "../../src/trading/state.js";

/** An operator vault over plain rows, recording what emergency revocation asked of it. */
function rowsVault() {
  const rows = {
    alice: { credentials: 2, grants: 1 },
    bob: { credentials: 1, grants: 0 },
  } as Record<string, { credentials: number; grants: number }>;
  const calls: string[] = [];
  const vault: EmergencyVault = {
    async listUserIds(op: Identity) {
      expect(op.kind).toBe("operator");
      return Object.keys(rows);
    },
    async disableAllCredentials(_op, userId) {
      calls.push(`disable:${userId}`);
      const n = rows[userId]?.credentials ?? 0;
      if (rows[userId]) rows[userId].credentials = 0;
      return n;
    },
    async revokeAllGrants(_op, userId) {
      calls.push(`revoke:${userId}`);
      if (userId === "bob")
        throw Object.assign(new Error("store down"), { code: "ERR_VAULT_STORE" });
      const n = rows[userId]?.grants ?? 0;
      if (rows[userId]) rows[userId].grants = 0;
      return n;
    },
  };
  return { vault, calls, rows };
}

async function actions(audit: AuditLog, chain: string) {
  const out: string[] = [];
  for await (const e of audit.readEntries(chain))
    out.push((JSON.parse(e.body) as { action: string }).action);
  return out;
}

describe("emergencyRevokeAll", () => {
  it("fires every kill switch, disables keys, revokes grants, notifies, and records it on both chains", async () => {
    const state = createMemoryTradingState();
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const { vault, calls } = rowsVault();
    const notices: RotateKeysNotice[] = [];
    const report = await runAs(operatorIdentity("ops-1"), () =>
      emergencyRevokeAll("backup bucket exposed", {
        state,
        audit,
        vault,
        notify: (n) => void notices.push(n),
      }),
    );
    expect(report).toMatchObject({ users: 2, credentialsDisabled: 3, grantsRevoked: 1 });
    expect(report.failures).toEqual([{ userId: "bob", step: "grants", code: "ERR_VAULT_STORE" }]);
    expect(calls).toEqual(["disable:alice", "revoke:alice", "disable:bob", "revoke:bob"]);
    expect((await state.get("alice")).active).toBe(true);
    expect((await state.get("bob")).active).toBe(true);
    expect(notices.map((n) => [n.userId, n.openOrdersCanceled])).toEqual([
      ["alice", false],
      ["bob", false],
    ]);
    expect(await actions(audit, userChainId("alice"))).toEqual(["killswitch.fired"]);
    expect(await actions(audit, OPERATOR_CHAIN_ID)).toEqual(["emergency.revoked"]);
  });

  it("only an operator can trigger emergency revocation", async () => {
    const state = createMemoryTradingState();
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const { vault, calls } = rowsVault();
    await expect(
      runAs(hostIdentity("alice"), () =>
        emergencyRevokeAll("x".repeat(10), { state, audit, vault }),
      ),
    ).rejects.toMatchObject({
      code: "ERR_GUARD_UNAUTHENTICATED",
    });
    expect(calls).toEqual([]);
    expect(await state.listActive()).toEqual([]);
  });
});
