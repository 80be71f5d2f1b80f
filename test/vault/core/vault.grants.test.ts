import { describe, expect, it } from "vitest";
import { hostIdentity, operatorIdentity } from "../../../src/guard/identity.js";
import { createVault } from "../../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import { localKms, makeIdp, must, recordingAudit } from "../helpers.js";

async function setup() {
  const idp = await makeIdp();
  const store = new MemoryCredentialStore();
  const audit = recordingAudit();
  let now = Date.now();
  const clock = {
    advance: (ms: number) => {
      now += ms;
    },
  };
  const vault = createVault({ kms: localKms(), store, audit: audit.sink, now: () => now });
  const alice = await idp.session("alice", 3 * 24 * 3600);
  const { credentialId } = await vault.store(alice, {
    exchange: "binance",
    credentials: { secret: "s3" },
  });
  return { idp, store, vault, alice, credentialId, audit, clock };
}

const open = (
  vault: Awaited<ReturnType<typeof setup>>["vault"],
  who: Parameters<typeof vault.withCredentials>[0],
  id: string,
  action?: string,
) =>
  vault.withCredentials(
    who,
    id,
    (c) => c.secret?.useText((t) => t),
    action === undefined ? {} : { action },
  );

describe("trading grants", () => {
  it("a grant opens in scope while the session is gone, and every use is audited", async () => {
    const { vault, alice, credentialId, audit } = await setup();
    const { grant, summary } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade", "cancel"],
      ttlMs: 3600_000,
    });
    expect(grant.kind).toBe("grant");
    expect(summary).toMatchObject({
      userId: "alice",
      exchanges: ["binance"],
      actions: ["cancel", "trade"],
    });
    expect(await open(vault, grant, credentialId, "trade")).toBe("s3");
    expect(audit.events.map((e) => e.action)).toEqual([
      "vault.credential.stored",
      "vault.grant.created",
      "vault.grant.used",
    ]);
    expect(audit.events[2]?.payload).toEqual({
      grantId: grant.id,
      exchange: "binance",
      action: "trade",
    });
  });

  it("Precondition: a grant opens only what its sealed scope covers, until its sealed expiry.", async () => {
    const { vault, alice, credentialId } = await setup();
    await vault.store(alice, {
      exchange: "okx",
      credentialId: "okx-1",
      credentials: { secret: "o" },
    });
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["cancel"],
      ttlMs: 60_000,
    });
    await expect(open(vault, grant, credentialId, "trade")).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_SCOPE",
    });
    await expect(open(vault, grant, credentialId)).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_SCOPE",
    });
    await expect(open(vault, grant, "okx-1", "cancel")).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_SCOPE",
    });
    expect(await open(vault, grant, credentialId, "cancel")).toBe("s3");
  });

  it("an operator who widens the grant row gains nothing: the sealed manifest decides", async () => {
    const { vault, alice, credentialId, store } = await setup();
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["cancel"],
      ttlMs: 60_000,
    });
    const rows = store.forUser("alice");
    const row = must(await rows.getGrant(grant.id));
    const key = must(await rows.getUserKey());
    const widened = {
      ...row,
      actions: ["cancel", "trade", "withdraw"],
      expiresAt: row.expiresAt + 10 ** 9,
    };
    await rows.commit({ expectedSeq: key.seq, userKey: key, grants: [widened] }); // same seq: raw write
    const resumed = await vault.resumeGrant(hostIdentity("alice"), "alice", grant.id);
    await expect(open(vault, resumed, credentialId, "trade")).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_SCOPE",
    });
  });

  it("Precondition: a revoked grant never reaches the KMS.", async () => {
    const { vault, alice, credentialId, audit } = await setup();
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    await vault.revokeGrant(alice, { grantId: grant.id });
    await expect(open(vault, grant, credentialId, "trade")).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_REVOKED",
    });
    await expect(vault.resumeGrant(hostIdentity("alice"), "alice", grant.id)).rejects.toMatchObject(
      {
        code: "ERR_VAULT_GRANT_REVOKED",
      },
    );
    expect(audit.events.at(-1)).toMatchObject({
      action: "vault.grant.revoked",
      payload: { grantId: grant.id },
    });
    expect(
      await vault.findGrant(hostIdentity("alice"), "alice", {
        exchange: "binance",
        action: "trade",
      }),
    ).toBeUndefined();
  });

  it("an operator can revoke (emergency stop) but a DB writer cannot un-revoke", async () => {
    const { vault, alice, credentialId, store } = await setup();
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    const rows = store.forUser("alice");
    const before = must(await rows.getGrant(grant.id));
    await vault.revokeGrant(alice, { grantId: grant.id });
    // put the pre-revocation row back (wrapped copy included) by deleting and re-inserting
    const key = must(await rows.getUserKey());
    const cred = must(await rows.getCredential(credentialId));
    await rows.shred();
    await rows.commit({ expectedSeq: null, userKey: key, credentials: [cred], grants: [before] });
    await expect(open(vault, grant, credentialId, "trade")).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_REVOKED",
    });

    const { grant: g2 } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    await vault.revokeGrant(operatorIdentity("ops-1"), { userId: "alice", grantId: g2.id });
    await expect(open(vault, g2, credentialId, "trade")).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_REVOKED",
    });
  });

  it("an expired grant is refused and its expiry audited once", async () => {
    const { vault, alice, credentialId, audit, clock } = await setup();
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    const resumed = await vault.resumeGrant(hostIdentity("alice"), "alice", grant.id);
    clock.advance(60_001);
    // the identity itself is past its expiry: refused as expired
    await expect(open(vault, resumed, credentialId, "trade")).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_EXPIRED",
    });
    await expect(vault.resumeGrant(hostIdentity("alice"), "alice", grant.id)).rejects.toMatchObject(
      {
        code: "ERR_VAULT_GRANT_EXPIRED",
      },
    );
    const expiredEvents = audit.events.filter((e) => e.action === "vault.grant.expired");
    expect(expiredEvents).toHaveLength(1);
    expect(expiredEvents[0]?.actor).toMatchObject({ kind: "host", userId: "alice" });
  });

  it("findGrant returns the user's live cancel grant for the kill switch, or undefined", async () => {
    const { vault, alice, credentialId } = await setup();
    expect(
      await vault.findGrant(hostIdentity("alice"), "alice", {
        exchange: "binance",
        action: "cancel",
      }),
    ).toBeUndefined();
    await vault.createGrant(alice, { exchanges: ["binance"], actions: ["cancel"], ttlMs: 60_000 });
    const g = await vault.findGrant(hostIdentity("alice"), "alice", {
      exchange: "binance",
      action: "cancel",
    });
    expect(g?.kind).toBe("grant");
    expect(await open(vault, must(g), credentialId, "cancel")).toBe("s3");
    expect(
      await vault.findGrant(hostIdentity("bob"), "bob", { exchange: "binance", action: "cancel" }),
    ).toBeUndefined();
  });

  it("a grant is looked up only by or for its own user, or by an operator", async () => {
    const { vault, alice, clock } = await setup();
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["cancel"],
      ttlMs: 60_000,
    });
    const need = { exchange: "binance", action: "cancel" };
    const stale = hostIdentity("alice", { ttlMs: 1_000 });
    for (const caller of [alice, grant, stale, hostIdentity("alice"), operatorIdentity("ops-1")]) {
      expect((await vault.findGrant(caller, "alice", need))?.id).toBe(grant.id);
      expect((await vault.resumeGrant(caller, "alice", grant.id)).id).toBe(grant.id);
    }
    clock.advance(5_000); // `stale` has expired by the vault's clock
    for (const caller of [
      hostIdentity("bob"),
      stale,
      { kind: "host", userId: "alice", id: "forged" },
    ]) {
      await expect(vault.findGrant(caller as never, "alice", need)).rejects.toMatchObject({
        code: "ERR_VAULT_UNAUTHORIZED",
      });
      await expect(vault.resumeGrant(caller as never, "alice", grant.id)).rejects.toMatchObject({
        code: "ERR_VAULT_UNAUTHORIZED",
      });
    }
  });

  it("grants need a live session to create, and refuse invalid scopes and TTLs", async () => {
    const { vault, alice } = await setup();
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 1000,
    });
    await expect(
      vault.createGrant(grant, { exchanges: ["binance"], actions: ["trade"], ttlMs: 1000 }),
    ).rejects.toMatchObject({ code: "ERR_VAULT_UNAUTHORIZED" });
    for (const bad of [
      { exchanges: [], actions: ["trade"], ttlMs: 1000 },
      { exchanges: ["Binance!"], actions: ["trade"], ttlMs: 1000 },
      { exchanges: ["binance"], actions: ["trade"], ttlMs: 31 * 24 * 3600_000 },
      { exchanges: ["binance"], actions: ["trade"], ttlMs: 0 },
    ]) {
      await expect(vault.createGrant(alice, bad)).rejects.toMatchObject({
        code: "ERR_INVALID_ARGUMENT",
      });
    }
  });

  it("a grant of one user cannot open another user's credential", async () => {
    const { idp, vault, alice } = await setup();
    const bob = await idp.session("bob");
    const b = await vault.store(bob, { exchange: "binance", credentials: { secret: "bob" } });
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    await expect(open(vault, grant, b.credentialId, "trade")).rejects.toMatchObject({
      code: "ERR_VAULT_CREDENTIAL_NOT_FOUND",
    });
  });
});
