import { describe, expect, it } from "vitest";
import { hostIdentity, type Identity, operatorIdentity } from "../../../src/guard/identity.js";
import { createVault } from "../../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import { localKms, makeIdp, recordingAudit } from "../helpers.js";

async function setup() {
  const idp = await makeIdp();
  const store = new MemoryCredentialStore();
  const audit = recordingAudit();
  const vault = createVault({ kms: localKms(), store, audit: audit.sink });
  const alice = await idp.session("alice");
  const bob = await idp.session("bob");
  return { idp, store, vault, alice, bob, audit };
}

describe("vault open", () => {
  it("stores and opens a credential set inside the callback only", async () => {
    const { vault, alice } = await setup();
    const meta = await vault.store(alice, {
      exchange: "binance",
      credentials: { apiKey: "AK", secret: "SK", passphrase: "PP" },
    });
    expect(meta.revision).toBe(1);
    const got = await vault.withCredentials(alice, meta.credentialId, (c) => ({
      apiKey: c.apiKey?.useText((t) => t),
      secret: c.secret?.useText((t) => t),
      names: Object.keys(c).sort(),
    }));
    expect(got).toEqual({ apiKey: "AK", secret: "SK", names: ["apiKey", "passphrase", "secret"] });
  });

  it("zeroes the buffers handed to the callback, also when it throws", async () => {
    const { vault, alice } = await setup();
    const { credentialId } = await vault.store(alice, {
      exchange: "kraken",
      credentials: { apiKey: "AK-1", secret: "a-much-longer-secret-value" },
    });
    let kept: Uint8Array | undefined;
    await vault.withCredentials(alice, credentialId, (c) => {
      c.secret?.use((b) => {
        kept = b;
      });
    });
    expect(kept?.length).toBeGreaterThan(0);
    expect(kept?.every((b) => b === 0)).toBe(true);
    let kept2: Uint8Array | undefined;
    await expect(
      vault.withCredentials(alice, credentialId, async (c) => {
        c.secret?.use((b) => {
          kept2 = b;
        });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(kept2?.every((b) => b === 0)).toBe(true);
  });

  it("another user's credential id is not found, with the same error as a missing one", async () => {
    const { vault, alice, bob } = await setup();
    const { credentialId } = await vault.store(alice, {
      exchange: "okx",
      credentials: { secret: "x" },
    });
    const a = await vault.withCredentials(bob, credentialId, () => 1).catch((e) => e);
    const b = await vault.withCredentials(bob, "nope", () => 1).catch((e) => e);
    expect(a.code).toBe("ERR_VAULT_CREDENTIAL_NOT_FOUND");
    expect(b.code).toBe(a.code);
    expect(b.message).toBe(a.message);
  });

  it("Precondition: only a live keywarden-minted identity of an accepted kind is authorized.", async () => {
    const { vault, alice } = await setup();
    const { credentialId } = await vault.store(alice, {
      exchange: "okx",
      credentials: { secret: "x" },
    });
    const forged = { ...alice };
    for (const who of [forged, hostIdentity("alice"), operatorIdentity("ops"), undefined]) {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid identities
      const err = await vault.withCredentials(who as any, credentialId, () => 1).catch((e) => e);
      expect(err.code).toBe("ERR_VAULT_UNAUTHORIZED");
      expect(err.message).toBe("not authorized");
    }
    await expect(
      vault.store(forged as unknown as Identity, { exchange: "okx", credentials: { a: "b" } }),
    ).rejects.toMatchObject({
      code: "ERR_VAULT_UNAUTHORIZED",
    });
  });

  it("an expired session is refused", async () => {
    const idp = await makeIdp();
    let now = Date.now();
    const vault = createVault({
      kms: localKms(),
      store: new MemoryCredentialStore(),
      now: () => now,
    });
    const s = await idp.session("carol", 60);
    const { credentialId } = await vault.store(s, {
      exchange: "okx",
      credentials: { secret: "x" },
    });
    now += 61_000;
    await expect(vault.withCredentials(s, credentialId, () => 1)).rejects.toMatchObject({
      code: "ERR_VAULT_UNAUTHORIZED",
    });
  });

  it("rotate replaces the secret and increments the revision; disable stops opens", async () => {
    const { vault, alice, audit } = await setup();
    const { credentialId } = await vault.store(alice, {
      exchange: "okx",
      credentials: { secret: "v1" },
    });
    const r = await vault.rotate(alice, credentialId, { secret: "v2" });
    expect(r.revision).toBe(2);
    expect(
      await vault.withCredentials(alice, credentialId, (c) => c.secret?.useText((t) => t)),
    ).toBe("v2");
    const d = await vault.disable(alice, credentialId);
    expect(d.disabled).toBe(true);
    await expect(vault.withCredentials(alice, credentialId, () => 1)).rejects.toMatchObject({
      code: "ERR_VAULT_CREDENTIAL_DISABLED",
    });
    const list = await vault.list(alice);
    expect(list).toEqual([expect.objectContaining({ credentialId, revision: 3, disabled: true })]);
    expect(JSON.stringify(list)).not.toContain("sealed");
    expect(audit.events.map((e) => e.action)).toEqual([
      "vault.credential.stored",
      "vault.credential.rotated",
      "vault.credential.disabled",
    ]);
    expect(audit.events.every((e) => e.chain === "user:alice")).toBe(true);
  });

  it("store refuses an existing credential id", async () => {
    const { vault, alice } = await setup();
    await vault.store(alice, {
      exchange: "okx",
      credentialId: "main",
      credentials: { secret: "v1" },
    });
    await expect(
      vault.store(alice, { exchange: "okx", credentialId: "main", credentials: { secret: "v2" } }),
    ).rejects.toMatchObject({ code: "ERR_VAULT_REVISION_CONFLICT" });
  });
});

describe("data key lifetime", () => {
  it("the data key is wiped even when the manifest fails to open on a write", async () => {
    const { idp, store } = await (async () => {
      const idp = await makeIdp();
      return { idp, store: new MemoryCredentialStore() };
    })();
    const { LocalKms } = await import("../../../src/vault/kms/local.js");
    const { Secret } = await import("../../../src/secret.js");
    const { randomBytes } = await import("node:crypto");
    const inner = new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))));
    const handed: Array<{ readonly wiped: boolean }> = [];
    const kms = {
      name: "local",
      generateDataKey: inner.generateDataKey.bind(inner),
      reEncrypt: inner.reEncrypt.bind(inner),
      decrypt: async (...args: Parameters<typeof inner.decrypt>) => {
        const s = await inner.decrypt(...args);
        handed.push(s);
        return s;
      },
    };
    const vault = createVault({ kms, store });
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "okx",
      credentials: { secret: "x" },
    });
    const rows = store.forUser("alice");
    const key = await rows.getUserKey();
    if (!key) throw new Error("no key row");
    const manifest = new Uint8Array(key.manifest);
    manifest[20] = (manifest[20] as number) ^ 1;
    await rows.commit({ expectedSeq: key.seq, userKey: { ...key, manifest } });
    await expect(vault.rotate(alice, credentialId, { secret: "y" })).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
    await expect(vault.withCredentials(alice, credentialId, () => 1)).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
    expect(handed.length).toBe(2);
    expect(handed.every((s) => s.wiped)).toBe(true);
  });
});

describe("owner checks around the store", () => {
  it("Precondition: a row of another owner is never opened, even if a store returns one.", async () => {
    const idp = await makeIdp();
    const inner = new MemoryCredentialStore();
    const vault0 = createVault({ kms: localKms(), store: inner });
    const bob = await idp.session("bob");
    await vault0.store(bob, {
      exchange: "okx",
      credentialId: "c1",
      credentials: { secret: "bob" },
    });
    // a buggy store that ignores the owner predicate and always answers with bob's rows
    const leaky = {
      forUser: (userId: string) => ({ ...inner.forUser("bob"), userId }),
    };
    const vault = createVault({ kms: localKms(), store: leaky });
    const alice = await idp.session("alice");
    await expect(vault.withCredentials(alice, "c1", () => 1)).rejects.toMatchObject({
      code: "ERR_VAULT_CREDENTIAL_NOT_FOUND",
    });
    expect(await vault.list(alice)).toEqual([]);
  });
});
