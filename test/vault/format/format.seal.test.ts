import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DECRYPT_FAILED_MESSAGE } from "../../../src/errors.js";
import {
  associatedData,
  BLOB_KIND,
  openBlob,
  sealBlob,
} from "../../../src/vault/format/envelope.js";

const ctx = { userId: "alice", exchange: "binance", credentialId: "cred-1", revision: 3 };
const key = () => new Uint8Array(randomBytes(32));

function expectDecryptFailed(fn: () => unknown) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: "ERR_VAULT_DECRYPT_FAILED", message: DECRYPT_FAILED_MESSAGE });
  expect((err as Error).cause).toBeUndefined();
}

describe("sealed blob format", () => {
  it("round-trips and has the documented layout", () => {
    const k = key();
    const pt = new Uint8Array(randomBytes(64));
    const blob = sealBlob(k, BLOB_KIND.credential, ctx, pt);
    expect(blob.length).toBe(4 + 12 + 64 + 16);
    expect([...blob.subarray(0, 4)]).toEqual([0x4b, 0x57, 1, 1]);
    expect(Buffer.from(openBlob(k, BLOB_KIND.credential, ctx, blob))).toEqual(Buffer.from(pt));
  });

  it("uses a fresh IV per seal", () => {
    const k = key();
    const a = sealBlob(k, BLOB_KIND.credential, ctx, new Uint8Array(8));
    const b = sealBlob(k, BLOB_KIND.credential, ctx, new Uint8Array(8));
    expect(Buffer.from(a.subarray(4, 16)).equals(Buffer.from(b.subarray(4, 16)))).toBe(false);
  });

  it("associated data is the header followed by the canonical JSON context (spec vector)", () => {
    const aad = associatedData(BLOB_KIND.credential, ctx);
    expect([...aad.subarray(0, 4)]).toEqual([0x4b, 0x57, 1, 1]);
    expect(new TextDecoder().decode(aad.subarray(4))).toBe(
      '{"credentialId":"cred-1","exchange":"binance","format":"keywarden.vault.credential","revision":3,"userId":"alice","v":1}',
    );
    expect(
      new TextDecoder().decode(
        associatedData(BLOB_KIND.manifest, { userId: "alice", seq: 7 }).subarray(4),
      ),
    ).toBe('{"format":"keywarden.vault.manifest","seq":7,"userId":"alice","v":1}');
  });

  it("every single-bit flip of every byte fails with the fixed message", () => {
    const k = key();
    const blob = sealBlob(k, BLOB_KIND.credential, ctx, new Uint8Array(randomBytes(64)));
    for (let i = 0; i < blob.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const t = new Uint8Array(blob);
        t[i] = (t[i] as number) ^ bit;
        expectDecryptFailed(() => openBlob(k, BLOB_KIND.credential, ctx, t));
      }
    }
  });

  it("every truncation and an appended byte fail", () => {
    const k = key();
    const blob = sealBlob(k, BLOB_KIND.credential, ctx, new Uint8Array(randomBytes(40)));
    for (let n = 0; n < blob.length; n++) {
      expectDecryptFailed(() => openBlob(k, BLOB_KIND.credential, ctx, blob.subarray(0, n)));
    }
    const longer = new Uint8Array(blob.length + 1);
    longer.set(blob);
    expectDecryptFailed(() => openBlob(k, BLOB_KIND.credential, ctx, longer));
  });

  it("a wrong user, exchange, credential id, revision, kind or key fails", () => {
    const k = key();
    const blob = sealBlob(k, BLOB_KIND.credential, ctx, new Uint8Array(16));
    for (const wrong of [
      { ...ctx, userId: "bob" },
      { ...ctx, exchange: "okx" },
      { ...ctx, credentialId: "cred-2" },
      { ...ctx, revision: 2 },
      { ...ctx, revision: 4 },
    ]) {
      expectDecryptFailed(() => openBlob(k, BLOB_KIND.credential, wrong, blob));
    }
    expectDecryptFailed(() => openBlob(k, BLOB_KIND.manifest, { userId: "alice", seq: 3 }, blob));
    expectDecryptFailed(() => openBlob(key(), BLOB_KIND.credential, ctx, blob));
  });

  it("Precondition: a blob with a wrong header or length is refused before any decryption.", () => {
    const k = key();
    const blob = sealBlob(k, BLOB_KIND.credential, ctx, new Uint8Array(16));
    const v2 = new Uint8Array(blob);
    v2[2] = 2;
    expectDecryptFailed(() => openBlob(k, BLOB_KIND.credential, ctx, v2));
    expectDecryptFailed(() => openBlob(k, BLOB_KIND.credential, ctx, new Uint8Array(31)));
    expectDecryptFailed(() =>
      openBlob(k, BLOB_KIND.credential, ctx, new Uint8Array((1 << 20) + 1)),
    );
  });

  it("Postcondition: no byte of an unauthenticated plaintext survives a failed open.", () => {
    // openBlob writes into its own output buffer and zeroes it on failure; the observable
    // contract is that nothing is returned: the only outcome of a tampered blob is the error.
    const k = key();
    const blob = sealBlob(k, BLOB_KIND.credential, ctx, new TextEncoder().encode("CANARY-plain"));
    const t = new Uint8Array(blob);
    t[t.length - 1] = (t[t.length - 1] as number) ^ 1;
    let out: Uint8Array | undefined;
    expectDecryptFailed(() => {
      out = openBlob(k, BLOB_KIND.credential, ctx, t);
    });
    expect(out).toBeUndefined();
  });
});

describe("docs/vault-format.md §7 test vector", () => {
  it("opens the published vector and decodes its fields", async () => {
    const { decodeFields, encodeFields } = await import(
      "../../../src/vault/core/credential-fields.js"
    );
    expect(Buffer.from(encodeFields({ secret: "SK", apiKey: "AK" })).toString("hex")).toBe(
      "02066170694b657900000002414b0673656372657400000002534b",
    );
    const k = new Uint8Array([...Array(32).keys()]);
    const blob = new Uint8Array(
      Buffer.from(
        "4b570101000102030405060708090a0b4504b76bacaea7628d419789f0a27e1ee6b5f551847b5f7c3a34ae90f648f53a7bd8f3ceac2fcefa02a4aa",
        "hex",
      ),
    );
    const plain = openBlob(k, BLOB_KIND.credential, ctx, blob);
    expect(Buffer.from(plain).toString("hex")).toBe(
      "02066170694b657900000002414b0673656372657400000002534b",
    );
    const fields = decodeFields(plain);
    expect(Object.keys(fields)).toEqual(["apiKey", "secret"]);
    expect(fields.apiKey?.useText((t) => t)).toBe("AK");
    expect(fields.secret?.useText((t) => t)).toBe("SK");
  });
});

describe("associated data encoding", () => {
  it("equals the RFC 8785 canonical form for arbitrary contexts", async () => {
    const { canonicalize } = await import("../../../src/canonical.js");
    const fc = await import("fast-check");
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme" }),
        fc.string(),
        fc.string({ unit: "binary" }).filter((s) => s.isWellFormed()),
        fc.nat(),
        (userId, exchange, credentialId, revision) => {
          const c = { userId, exchange, credentialId, revision };
          const body = new TextDecoder().decode(
            associatedData(BLOB_KIND.credential, c).subarray(4),
          );
          expect(body).toBe(canonicalize({ ...c, format: "keywarden.vault.credential", v: 1 }));
          const m = new TextDecoder().decode(
            associatedData(BLOB_KIND.manifest, { userId, seq: revision }).subarray(4),
          );
          expect(m).toBe(
            canonicalize({ userId, seq: revision, format: "keywarden.vault.manifest", v: 1 }),
          );
        },
      ),
    );
  });
});
