import { describe, expect, it } from "vitest";
import { createVault } from "../../../src/vault/core/vault.js";
import type { CredentialStore } from "../../../src/vault/stores/store.js";
import { runCredentialStoreConformance } from "../../../src/vault/testing/index.js";
import { localKms, makeIdp } from "../helpers.js";

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
