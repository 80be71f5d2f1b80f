import { describe, expect, it } from "vitest";
import { hostIdentity, operatorIdentity } from "../../../src/guard/identity.js";
import { emergencyVaultOps } from "../../../src/vault/core/emergency.js";
import { createVault } from "../../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import type { CredentialStore } from "../../../src/vault/stores/store.js";
import { canary, countingKms, localKms, makeIdp, recordingAudit } from "../helpers.js";

const ops = operatorIdentity("ops-1");

async function world(store: CredentialStore = new MemoryCredentialStore()) {
  const idp = await makeIdp();
  const kmsCalls: string[] = [];
  const kms = countingKms(localKms(), (op, ctx) => kmsCalls.push(`${op}:${ctx.userId}`));
  const audit = recordingAudit();
  const vault = createVault({ kms, store, audit: audit.sink });
  const alice = await idp.session("alice");
  const bob = await idp.session("bob");
  const secret = canary();
  const c1 = await vault.store(alice, {
    exchange: "binance",
    credentials: { apiKey: "k1", secret },
  });
  const c2 = await vault.store(alice, { exchange: "okx", credentials: { apiKey: "k2", secret } });
  const { grant } = await vault.createGrant(alice, {
    exchanges: ["binance"],
    actions: ["trade", "cancel"],
    ttlMs: 3_600_000,
  });
  const bobCred = await vault.store(bob, { exchange: "binance", credentials: { secret: "b" } });
  const open = (who: typeof alice, id = c1.credentialId) =>
    vault.withCredentials(who, id, (c) => c.secret?.useText((t) => t), { action: "trade" });
  return { idp, vault, store, kmsCalls, audit, alice, bob, grant, c1, c2, bobCred, secret, open };
}

describe("emergency lock", () => {
  it("Precondition: a locked user's credentials never reach the KMS, under a session or a grant.", async () => {
    const w = await world();
    expect(await w.open(w.alice)).toBe(w.secret);
    expect(await w.vault.lockUser(ops, "alice", "key store exposed")).toBe(2);
    w.kmsCalls.length = 0;
    for (const who of [w.alice, w.grant]) {
      await expect(w.open(who)).rejects.toMatchObject({ code: "ERR_VAULT_USER_LOCKED" });
      await expect(w.open(who, w.c2.credentialId)).rejects.toMatchObject({
        code: "ERR_VAULT_USER_LOCKED",
      });
    }
    // A fresh session of the same user is locked too: the lock is on the user, not a session.
    await expect(w.open(await w.idp.session("alice"))).rejects.toMatchObject({
      code: "ERR_VAULT_USER_LOCKED",
    });
    expect(w.kmsCalls).toEqual([]);
    // Other users are unaffected.
    expect(
      await w.vault.withCredentials(w.bob, w.bobCred.credentialId, (c) =>
        c.secret?.useText((t) => t),
      ),
    ).toBe("b");
  });

  it("an operator locks without any key: the KMS is not called at all", async () => {
    const w = await world();
    w.kmsCalls.length = 0;
    const blocked = await w.vault.lockUser(ops, "alice", "kms under suspicion");
    const revoked = await w.vault.revokeAllGrants(ops, "alice", "kms under suspicion");
    expect([blocked, revoked]).toEqual([2, 1]);
    expect(w.kmsCalls).toEqual([]);
    expect(await w.vault.lockStatus(ops, "alice")).toMatchObject({
      locked: true,
      reason: "kms under suspicion",
    });
    expect(await w.vault.lockStatus(w.bob)).toEqual({ locked: false });
  });

  it("locking twice keeps the first lock and blocks nothing new; a disabled credential is not counted", async () => {
    const w = await world();
    await w.vault.disable(w.alice, w.c2.credentialId);
    expect(await w.vault.lockUser(ops, "alice", "first")).toBe(1);
    expect(await w.vault.lockUser(ops, "alice", "second")).toBe(0);
    expect(await w.vault.lockStatus(w.alice)).toMatchObject({ reason: "first" });
    expect(await w.vault.lockUser(ops, "nobody-stored", "no rows")).toBe(0);
  });

  it("only the user's own live session unlocks; host, grant, operator and other users cannot", async () => {
    const w = await world();
    await w.vault.lockUser(ops, "alice", "leak");
    for (const who of [hostIdentity("alice"), w.grant, ops]) {
      await expect(w.vault.unlock(who)).rejects.toMatchObject({ code: "ERR_VAULT_UNAUTHORIZED" });
    }
    // Bob's session unlocks only Bob (who is not locked): Alice stays locked.
    expect(await w.vault.unlock(w.bob)).toBe(false);
    await expect(w.open(w.alice)).rejects.toMatchObject({ code: "ERR_VAULT_USER_LOCKED" });
    await expect(w.vault.lockStatus(w.bob, "alice")).rejects.toMatchObject({
      code: "ERR_VAULT_UNAUTHORIZED",
    });
    // An expired session of Alice cannot unlock either.
    const stale = await w.idp.session("alice", 1);
    await new Promise((r) => setTimeout(r, 1100));
    await expect(w.vault.unlock(stale)).rejects.toMatchObject({ code: "ERR_VAULT_UNAUTHORIZED" });
    expect((await w.vault.lockStatus(ops, "alice")).locked).toBe(true);
    // Alice's live session re-authorizes at the KMS and lifts the lock.
    w.kmsCalls.length = 0;
    expect(await w.vault.unlock(w.alice)).toBe(true);
    expect(w.kmsCalls).toEqual(["decrypt:alice"]);
    expect(await w.open(w.alice)).toBe(w.secret);
    expect(await w.vault.unlock(w.alice)).toBe(false);
  });

  it("unlock fails closed when the session cannot re-authorize at the KMS", async () => {
    const w = await world();
    await w.vault.lockUser(ops, "alice", "leak");
    const other = createVault({ kms: localKms(), store: w.store }); // a different master key
    await expect(other.unlock(w.alice)).rejects.toBeDefined();
    expect((await w.vault.lockStatus(ops, "alice")).locked).toBe(true);
  });

  it("revoked grants stay revoked after the unlock: the user must create new ones", async () => {
    const w = await world();
    await w.vault.lockUser(ops, "alice", "leak");
    expect(await w.vault.revokeAllGrants(ops, "alice", "leak")).toBe(1);
    expect(await w.vault.revokeAllGrants(ops, "alice", "leak")).toBe(0);
    await w.vault.unlock(w.alice);
    await expect(w.open(w.grant)).rejects.toMatchObject({ code: "ERR_VAULT_GRANT_REVOKED" });
    expect(
      await w.vault.findGrant(hostIdentity("alice"), "alice", {
        exchange: "binance",
        action: "trade",
      }),
    ).toBe(undefined);
  });

  it("operator-only: users, hosts and grants cannot lock, list users or revoke all grants", async () => {
    const w = await world();
    for (const who of [w.alice, w.bob, hostIdentity("alice"), w.grant]) {
      await expect(w.vault.lockUser(who, "alice", "x")).rejects.toMatchObject({
        code: "ERR_VAULT_UNAUTHORIZED",
      });
      await expect(w.vault.listUserIds(who)).rejects.toMatchObject({
        code: "ERR_VAULT_UNAUTHORIZED",
      });
      await expect(w.vault.revokeAllGrants(who, "alice", "x")).rejects.toMatchObject({
        code: "ERR_VAULT_UNAUTHORIZED",
      });
    }
    await expect(w.vault.lockUser(ops, "alice", "")).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    await expect(w.vault.lockUser(ops, "bad id!", "x")).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    expect((await w.vault.lockStatus(ops, "alice")).locked).toBe(false);
    expect(await w.vault.listUserIds(ops)).toEqual(["alice", "bob"]);
  });

  it("records the lock on the user and operator chains and the unlock on the user chain, without secrets", async () => {
    const w = await world();
    w.audit.events.length = 0;
    await w.vault.lockUser(ops, "alice", "backup bucket exposed");
    await w.vault.revokeAllGrants(ops, "alice", "backup bucket exposed");
    await w.vault.unlock(w.alice);
    const seen = w.audit.events.map((e) => [e.chain, e.action, e.actor.kind]);
    expect(seen).toEqual([
      ["user:alice", "vault.user.locked", "operator"],
      ["operator", "vault.lock.placed", "operator"],
      ["user:alice", "vault.grant.revoked", "operator"],
      ["user:alice", "vault.user.unlocked", "session"],
    ]);
    expect(w.audit.events[0]?.payload).toMatchObject({
      reason: "backup bucket exposed",
      blockedCredentials: 2,
      actorKind: "operator",
    });
    expect(JSON.stringify(w.audit.events)).not.toContain(w.secret);
  });

  it("a database writer who deletes the lock row gives back only the authority the user had, and the audit shows a lock without an unlock", async () => {
    const w = await world();
    await w.vault.lockUser(ops, "alice", "leak");
    const lock = await w.store.forUser("alice").getLock();
    await w.store.forUser("alice").clearLock(lock?.lockId as string); // the writer, out of band
    expect(await w.open(w.alice)).toBe(w.secret); // the user's own session, as before the lock
    const actions = w.audit.events.filter((e) => e.chain === "user:alice").map((e) => e.action);
    expect(actions).toContain("vault.user.locked");
    expect(actions).not.toContain("vault.user.unlocked");
  });

  it("emergencyVaultOps adapts the vault: disableAllCredentials is the key-free lock", async () => {
    const w = await world();
    const opsApi = emergencyVaultOps(w.vault);
    w.kmsCalls.length = 0;
    expect(await opsApi.listUserIds(ops)).toEqual(["alice", "bob"]);
    expect(await opsApi.disableAllCredentials(ops, "alice", "r")).toBe(2);
    expect(await opsApi.revokeAllGrants(ops, "alice", "r")).toBe(1);
    expect(w.kmsCalls).toEqual([]);
    await expect(opsApi.listUserIds(w.alice)).rejects.toMatchObject({
      code: "ERR_VAULT_UNAUTHORIZED",
    });
  });

  it("Precondition: a store without emergency locks is refused (every open must check the lock).", async () => {
    const inner = new MemoryCredentialStore();
    const noLocks: CredentialStore = {
      forUser: (u) => {
        const { getLock: _g, lock: _l, ...rest } = inner.forUser(u);
        return rest as unknown as ReturnType<CredentialStore["forUser"]>;
      },
    };
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: noLocks });
    await expect(
      vault.store(await idp.session("alice"), {
        exchange: "binance",
        credentials: { secret: "s" },
      }),
    ).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
    await expect(vault.listUserIds(ops)).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
  });
});
