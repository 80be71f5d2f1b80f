/**
 * The allocation-free paths of issue 21: credential fields written straight into the encoding,
 * field names matched against constant strings, opened plaintext handed out without a copy, and
 * LocalKms's remembered associated data. Each must behave exactly as the straightforward code did.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/secret.js";
import { decodeFields, encodeFields } from "../../../src/vault/core/credential-fields.js";
import { BLOB_KIND, openBlob, sealBlob } from "../../../src/vault/format/envelope.js";
import { LocalKms } from "../../../src/vault/kms/local.js";
import type { KmsContext } from "../../../src/vault/kms/provider.js";

/** The encoding as docs/vault-format.md §4 describes it, written independently. */
function reference(fields: Record<string, Uint8Array>): Buffer {
  const names = Object.keys(fields).sort();
  const parts: Buffer[] = [Buffer.from([names.length])];
  for (const n of names) {
    const v = fields[n] as Uint8Array;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(v.length);
    parts.push(Buffer.from([n.length]), Buffer.from(n, "latin1"), len, Buffer.from(v));
  }
  return Buffer.concat(parts);
}

describe("credential fields", () => {
  it("strings, bytes and Secrets encode as the documented layout", () => {
    const text = "sk-é€😀"; // 1-, 2-, 3- and 4-byte UTF-8
    const bytes = new Uint8Array(randomBytes(300));
    const held = new Uint8Array(randomBytes(17));
    const got = encodeFields({ secret: text, apiKey: bytes, passphrase: Secret.copyOf(held) });
    expect(Buffer.from(got)).toEqual(
      reference({ secret: Buffer.from(text, "utf8"), apiKey: bytes, passphrase: held }),
    );
    const back = decodeFields(got);
    expect(Object.keys(back).sort()).toEqual(["apiKey", "passphrase", "secret"]);
    expect(back.secret?.useText((s) => s)).toBe(text);
    expect(back.apiKey?.use((b) => Buffer.from(b))).toEqual(Buffer.from(bytes));
  });

  it("a wiped Secret is refused and no partial encoding is returned", () => {
    const s = Secret.copyOf(new Uint8Array(8).fill(7));
    s.wipe();
    expect(() => encodeFields({ apiKey: "AK", secret: s })).toThrow(
      expect.objectContaining({ code: "ERR_SECRET_WIPED" }),
    );
  });

  it("names outside the known list, and names of Object.prototype, decode as themselves", () => {
    for (const name of [
      "constructor",
      "toString",
      "x",
      "apiKeyX",
      "secreT",
      "uid2",
      "A".repeat(64),
    ]) {
      const plain = encodeFields({ [name]: "v" });
      const back = decodeFields(plain);
      expect(Object.keys(back)).toEqual([name]);
      expect(back[name]?.useText((s) => s)).toBe("v");
    }
  });

  it("decoded Secrets own their bytes: zeroing the plaintext leaves them intact", () => {
    const plain = encodeFields({ secret: new Uint8Array(32).fill(9) });
    const back = decodeFields(plain);
    plain.fill(0);
    expect(back.secret?.use((b) => [...b])).toEqual(new Array(32).fill(9));
  });

  it("malformed plaintexts fail with ERR_VAULT_FORMAT", () => {
    const good = Buffer.from(encodeFields({ apiKey: "AK", secret: "SK" }));
    const bad = [
      Buffer.alloc(0),
      Buffer.from([0]),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from([1, 1, 0x31, 0, 0, 0, 0]), // name "1"
      Buffer.concat([Buffer.from([2]), good.subarray(1, 12), good.subarray(1, 12)]), // duplicate
      Buffer.from([1, 1, 0x61, 0xff, 0xff, 0xff, 0xff]), // value length past the end
    ];
    for (const b of bad) {
      expect(() => decodeFields(new Uint8Array(b))).toThrow(
        expect.objectContaining({ code: "ERR_VAULT_FORMAT" }),
      );
    }
  });
});

describe("opened plaintext", () => {
  it("is a plain Uint8Array owning exactly its bytes (no pool slice, slice() copies)", () => {
    const k = new Uint8Array(randomBytes(32));
    const ctx = { userId: "u", exchange: "binance", credentialId: "c", revision: 1 };
    const opened = openBlob(
      k,
      BLOB_KIND.credential,
      ctx,
      sealBlob(k, BLOB_KIND.credential, ctx, new Uint8Array(40).fill(5)),
    );
    expect(Object.getPrototypeOf(opened)).toBe(Uint8Array.prototype);
    expect(opened.byteOffset).toBe(0);
    expect(opened.buffer.byteLength).toBe(40);
  });
});

describe("LocalKms associated data", () => {
  const auth = (userId: string) =>
    ({ kind: "grant", userId, grantId: "g", expiresAt: Date.now() + 60_000 }) as const;

  it("contexts whose fields would join to the same text stay apart", async () => {
    const kms = new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))));
    const G = "trading-grant" as const;
    const E = "exchange-api-secret" as const;
    const pairs: [KmsContext, KmsContext][] = [
      [
        { userId: "u", purpose: E },
        { userId: "u", purpose: G },
      ],
      [
        { userId: "u", purpose: G, grantId: "" },
        { userId: "u", purpose: G },
      ],
      [
        { userId: "u", purpose: G, grantId: "-" },
        { userId: "u", purpose: G },
      ],
      [
        { userId: "u", purpose: G, grantId: "1:x" },
        { userId: "u", purpose: G, grantId: "x" },
      ],
      [
        { userId: "u|1", purpose: G, grantId: "x" },
        { userId: "u", purpose: G, grantId: "x" },
      ],
    ];
    for (const [x, y] of pairs) {
      const wx = await kms.generateDataKey(x, auth(x.userId));
      const wy = await kms.generateDataKey(y, auth(y.userId));
      // each opens under its own context, repeatedly (the second open uses the remembered bytes)
      for (let i = 0; i < 2; i++) {
        await expect(kms.decrypt(wx.wrapped, x, auth(x.userId))).resolves.toBeDefined();
        await expect(kms.decrypt(wy.wrapped, y, auth(y.userId))).resolves.toBeDefined();
      }
      await expect(kms.decrypt(wx.wrapped, y, auth(y.userId))).rejects.toMatchObject({
        code: "ERR_VAULT_DECRYPT_FAILED",
      });
      await expect(kms.decrypt(wy.wrapped, x, auth(x.userId))).rejects.toMatchObject({
        code: "ERR_VAULT_DECRYPT_FAILED",
      });
    }
  });

  it("keeps working past the remembered-context limit, and refuses lone surrogates", async () => {
    const kms = new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))));
    const first: KmsContext = { userId: "user-0", purpose: "exchange-api-secret" };
    const w0 = await kms.generateDataKey(first, auth(first.userId));
    for (let i = 1; i < 1100; i++) {
      const c: KmsContext = { userId: `user-${i}`, purpose: "exchange-api-secret" };
      const w = await kms.generateDataKey(c, auth(c.userId));
      (await kms.decrypt(w.wrapped, c, auth(c.userId))).wipe();
    }
    (await kms.decrypt(w0.wrapped, first, auth(first.userId))).wipe();
    const bad: KmsContext = { userId: "u\uD800", purpose: "exchange-api-secret" };
    await expect(kms.generateDataKey(bad, auth(bad.userId))).rejects.toMatchObject({
      code: "ERR_CANONICAL_INVALID_VALUE",
    });
  });
});
