import { describe, expect, expectTypeOf, it } from "vitest";
import { OPERATOR_CHAIN_ID, userChainId } from "../../src/audit/core/entry.js";
import { AuditLog } from "../../src/audit/core/log.js";
import { auditSink } from "../../src/audit/core/sink.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { runAs } from "../../src/guard/context.js";
import { operatorIdentity } from "../../src/guard/identity.js";
import {
  type EmergencyVault,
  emergencyRevokeAll,
  type RotateKeysNotice,
} from "../../src/trading/emergency.js";
import { createMemoryTradingState } from "../../src/trading/state.js";
import { emergencyVaultOps } from "../../src/vault/core/emergency.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { canary, countingKms, localKms, makeIdp } from "../vault/helpers.js";

/**
 * Emergency revocation end to end with the real pieces: the vault over a real store, one
 * hash-chained AuditLog for the vault and trading, the trading kill-switch state. Nothing is
 * decrypted: the KMS is counted and must not be called.
 */
async function actions(log: AuditLog, chain: string) {
  const out: string[] = [];
  for await (const e of log.readEntries(chain))
    out.push((JSON.parse(e.body) as { action: string }).action);
  return out;
}

describe("emergencyRevokeAll with the real vault, audit log and trading state", () => {
  it("locks every user, revokes every grant, fires every kill switch, decrypts nothing, and only each user's session re-enables their keys", async () => {
    expectTypeOf(emergencyVaultOps).returns.toExtend<EmergencyVault>();
    const idp = await makeIdp();
    const kmsCalls: string[] = [];
    const auditStore = createMemoryAuditStore();
    const log = new AuditLog({ store: auditStore });
    const vault = createVault({
      kms: countingKms(localKms(), (op, ctx) => kmsCalls.push(`${op}:${ctx.userId}`)),
      store: new MemoryCredentialStore(),
      audit: auditSink(log),
    });
    const state = createMemoryTradingState();
    const secret = canary();
    const sessions = { alice: await idp.session("alice"), bob: await idp.session("bob") };
    const creds: Record<string, string[]> = {};
    for (const [u, s] of Object.entries(sessions)) {
      creds[u] = [];
      for (const exchange of ["binance", "okx"]) {
        const m = await vault.store(s, { exchange, credentials: { apiKey: u, secret } });
        creds[u]?.push(m.credentialId);
      }
    }
    const { grant } = await vault.createGrant(sessions.alice, {
      exchanges: ["binance"],
      actions: ["trade", "cancel"],
      ttlMs: 3_600_000,
    });
    const open = (who: typeof grant, id: string) =>
      vault.withCredentials(who, id, (c) => c.secret?.useText((t) => t.length), {
        action: "trade",
      });
    expect(await open(grant, creds.alice?.[0] as string)).toBe(secret.length);

    kmsCalls.length = 0;
    const notices: RotateKeysNotice[] = [];
    const report = await runAs(operatorIdentity("ops-1"), () =>
      emergencyRevokeAll("backup bucket exposed", {
        state,
        audit: log,
        vault: emergencyVaultOps(vault),
        notify: (n) => void notices.push(n),
      }),
    );
    expect(report).toEqual({ users: 2, credentialsDisabled: 4, grantsRevoked: 1, failures: [] });
    expect(kmsCalls).toEqual([]); // nothing decrypted, nothing re-wrapped
    expect(notices.map((n) => n.userId)).toEqual(["alice", "bob"]);
    expect((await state.get("alice")).active).toBe(true);

    // Every open fails before the KMS: sessions, fresh sessions, the grant.
    for (const [u, s] of Object.entries(sessions)) {
      for (const id of creds[u] ?? []) {
        await expect(open(s, id)).rejects.toMatchObject({ code: "ERR_VAULT_USER_LOCKED" });
      }
    }
    await expect(open(grant, creds.alice?.[0] as string)).rejects.toMatchObject({
      code: "ERR_VAULT_USER_LOCKED", // the lock is checked first; the grant is also revoked
    });
    expect((await vault.listGrants(sessions.alice))[0]?.revokedAt).not.toBeNull();
    await expect(open(await idp.session("bob"), creds.bob?.[0] as string)).rejects.toMatchObject({
      code: "ERR_VAULT_USER_LOCKED",
    });
    expect(kmsCalls).toEqual([]);

    // Recorded on both chains, and the chains verify.
    expect(await actions(log, userChainId("alice"))).toEqual([
      "vault.credential.stored",
      "vault.credential.stored",
      "vault.grant.created",
      "vault.grant.used",
      "vault.user.locked",
      "vault.grant.revoked",
      "killswitch.fired",
    ]);
    expect(await actions(log, OPERATOR_CHAIN_ID)).toEqual([
      "vault.lock.placed",
      "vault.lock.placed",
      "emergency.revoked",
    ]);
    for (const chain of [userChainId("alice"), userChainId("bob"), OPERATOR_CHAIN_ID]) {
      expect((await log.verifyChain(chain)).ok).toBe(true);
    }
    for (const chain of [userChainId("alice"), OPERATOR_CHAIN_ID]) {
      for await (const e of auditStore.read(chain, 0)) expect(e.body).not.toContain(secret);
    }

    // A second run finds everyone already locked: nothing newly blocked, nothing to revoke.
    const again = await runAs(operatorIdentity("ops-1"), () =>
      emergencyRevokeAll("second pass", { state, audit: log, vault: emergencyVaultOps(vault) }),
    );
    expect(again).toMatchObject({ users: 2, credentialsDisabled: 0, grantsRevoked: 0 });

    // Bob re-authorizes with his own session: his keys open again; Alice stays locked.
    expect(await vault.unlock(sessions.bob)).toBe(true);
    expect(await open(sessions.bob, creds.bob?.[1] as string)).toBe(secret.length);
    await expect(open(sessions.alice, creds.alice?.[0] as string)).rejects.toMatchObject({
      code: "ERR_VAULT_USER_LOCKED",
    });
    expect((await actions(log, userChainId("bob"))).at(-1)).toBe("vault.user.unlocked");
    expect((await log.verifyChain(userChainId("bob"))).ok).toBe(true);
    // Alice unlocks too: her revoked grant stays revoked until she creates a new one.
    expect(await vault.unlock(sessions.alice)).toBe(true);
    await expect(open(grant, creds.alice?.[0] as string)).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_REVOKED",
    });
  });
});
