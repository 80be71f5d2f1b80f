import { describe, expect, it } from "vitest";
import { runAs } from "../../../src/guard/context.js";
import { hostIdentity, operatorIdentity } from "../../../src/guard/identity.js";
import { vaultHandlers } from "../../../src/vault/core/handlers.js";
import { createVault } from "../../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import type { CredentialStore } from "../../../src/vault/stores/store.js";
import { localKms, makeIdp } from "../helpers.js";

async function setup(store: CredentialStore = new MemoryCredentialStore()) {
  const idp = await makeIdp();
  const vault = createVault({ kms: localKms(), store });
  const alice = await idp.session("alice");
  const bob = await idp.session("bob");
  const a = await vault.store(alice, { exchange: "binance", credentials: { secret: "a-secret" } });
  const b = await vault.store(bob, { exchange: "binance", credentials: { secret: "b-secret" } });
  return { vault, h: vaultHandlers(vault), alice, bob, a, b };
}

const readSecret = (c: { secret?: { useText<T>(fn: (t: string) => T): T } }) =>
  c.secret?.useText((t) => t);

describe("vaultHandlers", () => {
  it("take the caller from the context: the owner opens, another user gets the not-found error", async () => {
    const { h, alice, a, b } = await setup();
    expect(await runAs(alice, () => h.openCredential(a.credentialId, readSecret))).toBe("a-secret");
    const foreign = await runAs(alice, () => h.openCredential(b.credentialId, readSecret)).catch(
      (e: unknown) => e,
    );
    const missing = await runAs(alice, () => h.openCredential("cred_nope", readSecret)).catch(
      (e: unknown) => e,
    );
    expect(foreign).toMatchObject({ code: "ERR_GUARD_NOT_FOUND" });
    expect(missing).toMatchObject({
      code: "ERR_GUARD_NOT_FOUND",
      message: (foreign as Error).message,
    });
    await expect(h.openCredential(a.credentialId, readSecret)).rejects.toMatchObject({
      code: "ERR_GUARD_UNAUTHENTICATED",
    });
  });

  it("a grant in the context opens within its scope through the same handler", async () => {
    const { vault, h, alice, a } = await setup();
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    expect(
      await runAs(grant, () => h.openCredential(a.credentialId, readSecret, { action: "trade" })),
    ).toBe("a-secret");
    await expect(
      runAs(grant, () => h.openCredential(a.credentialId, readSecret, { action: "withdraw" })),
    ).rejects.toMatchObject({ code: "ERR_VAULT_GRANT_SCOPE" });
  });

  it("operators pass only the account handler (deleteUser), never the credential handlers", async () => {
    const { vault, h, alice, a } = await setup();
    const ops = operatorIdentity("ops-1");
    await expect(
      runAs(ops, () => h.openCredential(a.credentialId, readSecret)),
    ).rejects.toMatchObject({ code: "ERR_GUARD_NOT_FOUND" });
    await expect(
      runAs(hostIdentity("alice"), () => h.rotate(a.credentialId, { secret: "x" })),
    ).rejects.toMatchObject({ code: "ERR_VAULT_UNAUTHORIZED" });
    await runAs(ops, () => h.deleteUser("alice"));
    expect(await vault.list(alice)).toEqual([]);
  });

  it("Precondition: a row of another owner is never described, even if a store returns one.", async () => {
    const inner = new MemoryCredentialStore();
    // A broken store that answers every owner with bob's rows.
    const leaky: CredentialStore = {
      forUser: (u) => ({ ...inner.forUser("bob"), userId: u }),
    };
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: leaky });
    const bob = await idp.session("bob");
    const alice = await idp.session("alice");
    const { credentialId } = await createVault({ kms: localKms(), store: inner }).store(bob, {
      exchange: "binance",
      credentials: { secret: "b" },
    });
    expect(await vault.describeCredential(bob, credentialId)).toMatchObject({ userId: "bob" });
    expect(await vault.describeCredential(alice, credentialId)).toBeUndefined();
    await expect(
      runAs(alice, () => vaultHandlers(vault).disable(credentialId)),
    ).rejects.toMatchObject({ code: "ERR_GUARD_NOT_FOUND" });
  });
});
