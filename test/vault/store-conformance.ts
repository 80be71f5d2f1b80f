import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import type {
  CredentialRow,
  CredentialStore,
  GrantRow,
  UserKeyRow,
} from "../../src/vault/store.js";
import { createVault } from "../../src/vault/vault.js";
import { localKms, makeIdp } from "./helpers.js";

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const userKey = (userId: string, seq: number): UserKeyRow => ({
  userId,
  kms: "local",
  keyId: "k1",
  wrappedDataKey: bytes(70),
  manifest: bytes(100),
  seq,
  createdAt: 1,
  updatedAt: 2,
});
const cred = (userId: string, credentialId: string, revision = 1): CredentialRow => ({
  userId,
  credentialId,
  exchange: "binance",
  label: null,
  revision,
  disabled: false,
  sealed: bytes(60),
  createdAt: 1,
  updatedAt: 2,
});
const grant = (userId: string, grantId: string): GrantRow => ({
  userId,
  grantId,
  exchanges: ["binance"],
  actions: ["trade"],
  createdAt: 1,
  expiresAt: 2_000_000_000_000,
  revokedAt: null,
  wrappedDataKey: bytes(70),
  keyId: "k1",
});

/** The CredentialStore contract, run against every built-in store. */
export function storeConformance(make: () => Promise<CredentialStore>): void {
  it("round-trips rows exactly, scoped to their owner", async () => {
    const store = await make();
    const a = store.forUser("alice");
    const k = userKey("alice", 1);
    const c = cred("alice", "c1");
    const g = grant("alice", "g1");
    expect(await a.commit({ expectedSeq: null, userKey: k, credentials: [c], grants: [g] })).toBe(
      true,
    );
    expect(await a.getUserKey()).toEqual(k);
    expect(await a.getCredential("c1")).toEqual(c);
    expect(await a.getGrant("g1")).toEqual(g);
    expect(await a.listCredentials()).toEqual([c]);
    expect(await a.listGrants()).toEqual([g]);
    const b = store.forUser("bob");
    expect(await b.getUserKey()).toBeUndefined();
    expect(await b.getCredential("c1")).toBeUndefined();
    expect(await b.getGrant("g1")).toBeUndefined();
    expect(await b.listCredentials()).toEqual([]);
    expect(await b.revokeGrant("g1", 5)).toBe(false);
    await b.shred();
    expect(await a.getCredential("c1")).toEqual(c);
  });

  it("commit is a compare-and-swap on the user's seq", async () => {
    const store = await make();
    const a = store.forUser("alice");
    expect(await a.commit({ expectedSeq: null, userKey: userKey("alice", 1) })).toBe(true);
    expect(
      await a.commit({
        expectedSeq: null,
        userKey: userKey("alice", 1),
        credentials: [cred("alice", "x")],
      }),
    ).toBe(false);
    expect(
      await a.commit({
        expectedSeq: 7,
        userKey: userKey("alice", 8),
        credentials: [cred("alice", "x")],
      }),
    ).toBe(false);
    expect(await a.getCredential("x")).toBeUndefined();
    expect(
      await a.commit({
        expectedSeq: 1,
        userKey: userKey("alice", 2),
        credentials: [cred("alice", "x", 2)],
      }),
    ).toBe(true);
    expect((await a.getUserKey())?.seq).toBe(2);
    expect((await a.getCredential("x"))?.revision).toBe(2);
  });

  it("concurrent commits on the same seq: exactly one wins", async () => {
    const store = await make();
    const a = store.forUser("alice");
    await a.commit({ expectedSeq: null, userKey: userKey("alice", 1) });
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        a.commit({
          expectedSeq: 1,
          userKey: userKey("alice", 2),
          credentials: [cred("alice", `c${i}`)],
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.listCredentials()).toHaveLength(1);
  });

  it("Postcondition: a commit never clears a grant's revocation (nor restores its dropped key).", async () => {
    const store = await make();
    const a = store.forUser("alice");
    const g = grant("alice", "g1");
    await a.commit({ expectedSeq: null, userKey: userKey("alice", 1), grants: [g] });
    expect(await a.revokeGrant("g1", 42)).toBe(true);
    expect(await a.revokeGrant("g1", 99)).toBe(true);
    await a.commit({ expectedSeq: 1, userKey: userKey("alice", 2), grants: [g] });
    expect(await a.getGrant("g1")).toMatchObject({ revokedAt: 42, wrappedDataKey: null });
  });

  it("shred removes every row of the owner only", async () => {
    const store = await make();
    const a = store.forUser("alice");
    const b = store.forUser("bob");
    await a.commit({
      expectedSeq: null,
      userKey: userKey("alice", 1),
      credentials: [cred("alice", "c")],
      grants: [grant("alice", "g")],
    });
    await b.commit({
      expectedSeq: null,
      userKey: userKey("bob", 1),
      credentials: [cred("bob", "c")],
    });
    await a.shred();
    expect(await a.getUserKey()).toBeUndefined();
    expect(await a.listCredentials()).toEqual([]);
    expect(await a.listGrants()).toEqual([]);
    expect(await b.listCredentials()).toHaveLength(1);
  });

  it("drives the vault end to end (store, open, rotate, grant, revoke, shred)", async () => {
    const store = await make();
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store });
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { apiKey: "k", secret: "s1" },
    });
    await vault.rotate(alice, credentialId, { apiKey: "k", secret: "s2" });
    const { grant: g } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    const open = (who: typeof alice) =>
      vault.withCredentials(who, credentialId, (c) => c.secret?.useText((t) => t), {
        action: "trade",
      });
    expect(await open(alice)).toBe("s2");
    expect(await open(g)).toBe("s2");
    await vault.revokeGrant(alice, { grantId: g.id });
    await expect(open(g)).rejects.toMatchObject({ code: "ERR_VAULT_GRANT_REVOKED" });
    await vault.deleteUser(alice);
    await expect(open(alice)).rejects.toMatchObject({ code: "ERR_VAULT_CREDENTIAL_NOT_FOUND" });
    expect(await vault.list(alice)).toEqual([]);
  });
}
