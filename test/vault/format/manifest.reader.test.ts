import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalBytes } from "../../../src/canonical.js";
import {
  BLOB_KIND,
  type Manifest,
  ManifestReader,
  openManifest,
  sealBlob,
  sealManifest,
} from "../../../src/vault/format/index.js";

const key = () => new Uint8Array(randomBytes(32));
const m1: Manifest = {
  userId: "alice",
  seq: 1,
  credentials: { c1: { exchange: "binance", revision: 1, state: "active" } },
  grants: {
    g1: { exchanges: ["binance"], actions: ["trade"], createdAt: 1, expiresAt: 2, revoked: false },
  },
};

describe("ManifestReader", () => {
  it("returns what openManifest returns, and the same frozen object for the same sealed text", () => {
    const k = key();
    const sealed = sealManifest(k, m1);
    const r = new ManifestReader();
    const a = r.open(k, "alice", 1, sealed);
    expect(a).toEqual(openManifest(k, "alice", 1, sealed));
    expect(r.open(k, "alice", 1, sealManifest(k, m1))).toBe(a); // a fresh seal of the same text
    expect(Object.isFrozen(a.grants.g1?.actions)).toBe(true);
    expect(() => {
      (a.credentials as Record<string, unknown>).c2 = {};
    }).toThrow(TypeError);
  });

  it("a changed manifest is parsed again; tampering still fails after a remembered open", () => {
    const k = key();
    const r = new ManifestReader();
    r.open(k, "alice", 1, sealManifest(k, m1));
    const m2 = { ...m1, seq: 2, credentials: {} };
    expect(r.open(k, "alice", 2, sealManifest(k, m2)).credentials).toEqual({});
    const sealed = sealManifest(k, m2);
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] as number) ^ 1;
    expect(() => r.open(k, "alice", 2, sealed)).toThrow(
      expect.objectContaining({ code: "ERR_VAULT_DECRYPT_FAILED" }),
    );
    expect(() => r.open(key(), "alice", 2, sealManifest(k, m2))).toThrow(
      expect.objectContaining({ code: "ERR_VAULT_DECRYPT_FAILED" }),
    );
  });

  it("Postcondition: a remembered manifest is returned only for the very text it was validated from, for the same user and seq.", () => {
    const k = key();
    const r = new ManifestReader();
    r.open(k, "alice", 1, sealManifest(k, m1));
    // the same text (it says seq 1), sealed by a faulty writer under the associated data of seq 2
    const text = canonicalBytes(m1);
    const misbound = sealBlob(k, BLOB_KIND.manifest, { userId: "alice", seq: 2 }, text);
    expect(() => r.open(k, "alice", 2, misbound)).toThrow(
      expect.objectContaining({ code: "ERR_VAULT_DECRYPT_FAILED" }),
    );
    // and under another user's associated data
    const other = sealBlob(k, BLOB_KIND.manifest, { userId: "bob", seq: 1 }, text);
    expect(() => r.open(k, "bob", 1, other)).toThrow(
      expect.objectContaining({ code: "ERR_VAULT_DECRYPT_FAILED" }),
    );
  });
});
