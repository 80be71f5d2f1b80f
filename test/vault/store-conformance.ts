import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type {
  CredentialRow,
  CredentialStore,
  GrantRow,
  UserKeyRow,
} from "../../src/vault/store.js";
import { runCredentialStoreConformance } from "../../src/vault/testing/index.js";
import { createVault } from "../../src/vault/vault.js";
import { localKms, makeIdp } from "./helpers.js";

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const _userKey = (userId: string, seq: number): UserKeyRow => ({
  userId,
  kms: "local",
  keyId: "k1",
  wrappedDataKey: bytes(70),
  manifest: bytes(100),
  seq,
  createdAt: 1,
  updatedAt: 2,
});
const _cred = (userId: string, credentialId: string, revision = 1): CredentialRow => ({
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
const _grant = (userId: string, grantId: string): GrantRow => ({
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
  runCredentialStoreConformance("built-in", { create: make }, { describe, it });

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
