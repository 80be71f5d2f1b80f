import { describe, expect, it } from "vitest";
import type { Secret } from "../../../src/secret.js";
import { createVault } from "../../../src/vault/core/vault.js";
import type { KmsAuthorization, KmsContext, KmsProvider } from "../../../src/vault/kms/provider.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import { localKms, makeIdp } from "../helpers.js";

function countingKms(): { kms: KmsProvider; decrypts: () => number } {
  const inner = localKms();
  let n = 0;
  const kms: KmsProvider = {
    name: inner.name,
    generateDataKey: (c: KmsContext, a: KmsAuthorization) => inner.generateDataKey(c, a),
    decrypt: (w: Uint8Array, c: KmsContext, a: KmsAuthorization): Promise<Secret> => {
      n++;
      return inner.decrypt(w, c, a);
    },
    reEncrypt: (w, f, t, a) => inner.reEncrypt(w, f, t, a),
  };
  return { kms, decrypts: () => n };
}

describe("data-key cache", () => {
  it("is off by default: one KMS decrypt per open", async () => {
    const idp = await makeIdp();
    const { kms, decrypts } = countingKms();
    const vault = createVault({ kms, store: new MemoryCredentialStore() });
    const s = await idp.session("alice");
    const { credentialId } = await vault.store(s, {
      exchange: "okx",
      credentials: { secret: "x" },
    });
    const before = decrypts();
    for (let i = 0; i < 3; i++) await vault.withCredentials(s, credentialId, () => 1);
    expect(decrypts() - before).toBe(3);
  });

  it("when enabled, is partitioned per session and bounded by age", async () => {
    const idp = await makeIdp();
    const { kms, decrypts } = countingKms();
    let now = Date.now();
    const vault = createVault({
      kms,
      store: new MemoryCredentialStore(),
      dataKeyCache: { maxAgeMs: 60_000 },
      now: () => now,
    });
    const s1 = await idp.session("alice");
    const { credentialId } = await vault.store(s1, {
      exchange: "okx",
      credentials: { secret: "x" },
    });
    let base = decrypts();
    await vault.withCredentials(s1, credentialId, () => 1);
    await vault.withCredentials(s1, credentialId, () => 1);
    expect(decrypts() - base).toBe(1);
    const s2 = await idp.session("alice"); // another session of the same user: its own partition
    base = decrypts();
    await vault.withCredentials(s2, credentialId, () => 1);
    expect(decrypts() - base).toBe(1);
    now += 60_001;
    base = decrypts();
    await vault.withCredentials(s1, credentialId, () => 1);
    expect(decrypts() - base).toBe(1);
    // the cached key is handed out as a copy: a kept buffer is still zeroed after the call
    let kept: Uint8Array | undefined;
    await vault.withCredentials(s1, credentialId, (c) => c.secret?.use((b) => (kept = b)));
    expect(kept?.every((b) => b === 0)).toBe(true);
  });

  it("refuses an unbounded age", () => {
    expect(() =>
      createVault({
        kms: localKms(),
        store: new MemoryCredentialStore(),
        dataKeyCache: { maxAgeMs: 3600_000 },
      }),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});
