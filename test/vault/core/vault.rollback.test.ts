import { describe, expect, it } from "vitest";
import { createVault } from "../../../src/vault/core/vault.js";
import type { RevisionWitness } from "../../../src/vault/format/manifest.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import { localKms, makeIdp, must } from "../helpers.js";

function memoryWitness(): RevisionWitness {
  const m = new Map<string, number>();
  return {
    async get(u) {
      return m.get(u) ?? 0;
    },
    async advance(u, s) {
      if (s > (m.get(u) ?? 0)) m.set(u, s);
    },
  };
}

async function setup() {
  const idp = await makeIdp();
  const store = new MemoryCredentialStore();
  const kms = localKms();
  const vault = createVault({ kms, store });
  const alice = await idp.session("alice");
  const rows = store.forUser("alice");
  return { idp, store, kms, vault, alice, rows };
}

const read = (
  vault: ReturnType<typeof createVault>,
  who: Parameters<typeof vault.withCredentials>[0],
  id: string,
) => vault.withCredentials(who, id, (c) => c.secret?.useText((t) => t));

describe("vault rollback and state integrity", () => {
  it("Precondition: the row's revision and exchange must equal the sealed manifest's.", async () => {
    const { vault, alice, store } = await setup();
    const { credentialId } = await vault.store(alice, {
      exchange: "okx",
      credentials: { secret: "old" },
    });
    const rows = store.forUser("alice");
    const oldRow = await rows.getCredential(credentialId);
    await vault.rotate(alice, credentialId, { secret: "new" });
    const key = await rows.getUserKey();
    // swap only the credential row: same user row, same seq (a raw UPDATE of one row)
    await rows.shred();
    await rows.commit({ expectedSeq: null, userKey: must(key), credentials: [must(oldRow)] });
    await expect(read(vault, alice, credentialId)).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
  });

  it("flipping the disabled column does not re-enable a disabled credential", async () => {
    const { vault, alice, rows } = await setup();
    const { credentialId } = await vault.store(alice, {
      exchange: "okx",
      credentials: { secret: "s" },
    });
    const before = await rows.getCredential(credentialId);
    await vault.disable(alice, credentialId);
    const key = must(await rows.getUserKey());
    const disabledRow = must(await rows.getCredential(credentialId));
    await rows.shred();
    await rows.commit({
      expectedSeq: null,
      userKey: key,
      credentials: [{ ...disabledRow, disabled: false }],
    });
    await expect(read(vault, alice, credentialId)).rejects.toMatchObject({
      code: "ERR_VAULT_CREDENTIAL_DISABLED",
    });
    // ...nor does putting back the enabled row from before (older revision)
    await rows.shred();
    await rows.commit({ expectedSeq: null, userKey: key, credentials: [must(before)] });
    await expect(read(vault, alice, credentialId)).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
  });

  it("Precondition: a manifest older than one already seen for the user is refused (rollback).", async () => {
    const { vault, alice, rows } = await setup();
    const { credentialId } = await vault.store(alice, {
      exchange: "okx",
      credentials: { secret: "v1" },
    });
    const oldKey = must(await rows.getUserKey());
    const oldRow = must(await rows.getCredential(credentialId));
    await vault.disable(alice, credentialId);
    // roll back BOTH the user row (manifest) and the credential row to the consistent older state
    await rows.shred();
    await rows.commit({ expectedSeq: null, userKey: oldKey, credentials: [oldRow] });
    await expect(read(vault, alice, credentialId)).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
  });

  it("a full consistent rollback is detected across restarts only with a persistent witness", async () => {
    const { idp, store, kms } = await setup();
    const witness = memoryWitness();
    const v1 = createVault({ kms, store, witness });
    const alice = await idp.session("alice");
    const rows = store.forUser("alice");
    const { credentialId } = await v1.store(alice, {
      exchange: "okx",
      credentials: { secret: "v1" },
    });
    const oldKey = must(await rows.getUserKey());
    const oldRow = must(await rows.getCredential(credentialId));
    await v1.disable(alice, credentialId);
    await rows.shred();
    await rows.commit({ expectedSeq: null, userKey: oldKey, credentials: [oldRow] });
    // a restarted process without a witness cannot tell (the documented limit)...
    const amnesic = createVault({ kms, store });
    expect(await read(amnesic, alice, credentialId)).toBe("v1");
    // ...one with the persistent witness can
    const restarted = createVault({ kms, store, witness });
    await expect(read(restarted, alice, credentialId)).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
  });

  it("a sealed row copied under another credential id or user does not open", async () => {
    const { idp, vault, alice, store, rows } = await setup();
    const bob = await idp.session("bob");
    const a = await vault.store(alice, {
      exchange: "okx",
      credentialId: "a",
      credentials: { secret: "A" },
    });
    await vault.store(alice, { exchange: "okx", credentialId: "b", credentials: { secret: "B" } });
    await vault.store(bob, { exchange: "okx", credentialId: "a", credentials: { secret: "bob" } });
    const rowA = must(await rows.getCredential(a.credentialId));
    const key = must(await rows.getUserKey());
    // alice's row "a" written as her row "b"
    await rows.shred();
    await rows.commit({
      expectedSeq: null,
      userKey: key,
      credentials: [rowA, { ...rowA, credentialId: "b" }],
    });
    await expect(read(vault, alice, "b")).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
    // alice's rows (wrapped key, manifest, credential) written into bob's scope
    const bobRows = store.forUser("bob");
    await bobRows.shred();
    await bobRows.commit({
      expectedSeq: null,
      userKey: { ...key, userId: "bob" },
      credentials: [{ ...rowA, userId: "bob" }],
    });
    await expect(read(vault, bob, "a")).rejects.toMatchObject({ code: "ERR_VAULT_DECRYPT_FAILED" });
  });
});
