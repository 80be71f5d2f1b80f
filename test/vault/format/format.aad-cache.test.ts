/**
 * Seal, open and LocalKms remember the associated data of the contexts they saw (issue 21). These
 * tests hold the remembered bytes to an independent computation: every blob and every wrapped key
 * is opened with node:crypto under associated data built here from `canonicalize` (RFC 8785), and
 * a context that differs in any one field never opens what another sealed, including after the
 * caches were emptied for being full.
 */
import { createDecipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../../../src/canonical.js";
import { Secret } from "../../../src/secret.js";
import { BLOB_KIND, openBlob, sealBlob } from "../../../src/vault/format/envelope.js";
import type { KmsContext } from "../../../src/vault/kms/index.js";
import { LocalKms } from "../../../src/vault/kms/local.js";

type Ctx = { userId: string; exchange: string; credentialId: string; revision: number };

/** The envelope's associated data, from the spec (docs/vault-format.md §3), not from the code. */
function specAad(kind: 1 | 2, context: object): Buffer {
  const format = kind === 1 ? "keywarden.vault.credential" : "keywarden.vault.manifest";
  return Buffer.concat([
    Buffer.from([0x4b, 0x57, 1, kind]),
    Buffer.from(canonicalize({ ...context, format, v: 1 })),
  ]);
}

function openIndependently(key: Uint8Array, aad: Buffer, blob: Uint8Array): Buffer {
  const d = createDecipheriv("aes-256-gcm", key, blob.subarray(4, 16));
  d.setAAD(aad);
  d.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([d.update(blob.subarray(16, blob.length - 16)), d.final()]);
}

const near = (c: Ctx): Ctx[] => [
  { ...c, userId: `${c.userId}x` },
  { ...c, exchange: c.exchange === "binance" ? "okx" : "binance" },
  { ...c, credentialId: `${c.credentialId}0` },
  { ...c, revision: c.revision + 1 },
];

describe("remembered associated data", () => {
  it("every sealed blob opens under the spec's associated data and under no neighbouring context, across cache resets", () => {
    const key = new Uint8Array(randomBytes(32));
    const contexts: Ctx[] = [];
    // More contexts than the cache holds (1,024), with repeats, so that hits, misses and resets
    // all happen; users share credential ids and credentials share users.
    for (let i = 0; i < 2500; i++)
      contexts.push({
        userId: `user-${i % 700}`,
        exchange: i % 3 === 0 ? "okx" : "binance",
        credentialId: `cred-${i % 11}`,
        revision: 1 + (i % 5),
      });
    const sealed = contexts.map((c, i) => {
      const pt = Buffer.from(`secret ${i}`);
      return { c, pt, blob: sealBlob(key, BLOB_KIND.credential, c, pt) };
    });
    for (const [i, { c, pt, blob }] of sealed.entries()) {
      expect(openIndependently(key, specAad(1, c), blob).equals(pt)).toBe(true);
      if (i % 7 === 0)
        for (const other of near(c))
          expect(() => openBlob(key, BLOB_KIND.credential, other, blob)).toThrow(
            expect.objectContaining({ code: "ERR_VAULT_DECRYPT_FAILED" }),
          );
      expect(Buffer.from(openBlob(key, BLOB_KIND.credential, c, blob)).equals(pt)).toBe(true);
    }
  });

  it("a manifest's remembered bytes follow its seq", () => {
    const key = new Uint8Array(randomBytes(32));
    for (let seq = 1; seq < 50; seq++) {
      const ctx = { userId: "alice", seq };
      const blob = sealBlob(key, BLOB_KIND.manifest, ctx, Buffer.from([seq]));
      expect(openIndependently(key, specAad(2, ctx), blob)[0]).toBe(seq);
      expect(() =>
        openBlob(key, BLOB_KIND.manifest, { userId: "alice", seq: seq - 1 }, blob),
      ).toThrow();
      expect(() =>
        openBlob(
          key,
          BLOB_KIND.credential,
          { userId: "alice", exchange: "x", credentialId: "y", revision: seq },
          blob,
        ),
      ).toThrow();
    }
  });

  it("a context that is refused is refused again (it is never remembered)", () => {
    const key = new Uint8Array(randomBytes(32));
    const bad = { userId: "\uD800", exchange: "binance", credentialId: "c", revision: 1 };
    const unsafe = { userId: "u", exchange: "binance", credentialId: "c", revision: 2 ** 53 };
    for (let i = 0; i < 3; i++) {
      expect(() => sealBlob(key, BLOB_KIND.credential, bad, new Uint8Array(1))).toThrow(
        expect.objectContaining({ code: "ERR_CANONICAL_INVALID_VALUE" }),
      );
      expect(() => sealBlob(key, BLOB_KIND.credential, unsafe, new Uint8Array(1))).toThrow(
        expect.objectContaining({ code: "ERR_CANONICAL_INVALID_VALUE" }),
      );
    }
  });

  it("LocalKms: each wrapped key unwraps under the spec's associated data and only under its own context", async () => {
    const master = new Uint8Array(randomBytes(32));
    const kms = new LocalKms(Secret.copyOf(master));
    const header = Buffer.concat([Buffer.from([0x4b, 0x4c, 1]), Buffer.from(kms.keyId, "hex")]);
    const contexts: KmsContext[] = [];
    for (let i = 0; i < 1300; i++)
      contexts.push(
        i % 2 === 0
          ? { userId: `u${i % 600}`, purpose: "exchange-api-secret" }
          : { userId: `u${i % 600}`, purpose: "trading-grant", grantId: `g${i % 13}` },
      );
    const keys = [];
    for (const c of contexts) {
      const auth = { kind: "session", userId: c.userId, sessionId: "s" } as never;
      const { plaintext, wrapped } = await kms.generateDataKey(c, auth);
      keys.push({ c, wrapped, auth, bytes: plaintext.use((b) => Buffer.from(b)) });
    }
    for (const [i, { c, wrapped, auth, bytes }] of keys.entries()) {
      const d = createDecipheriv("aes-256-gcm", master, wrapped.subarray(11, 23));
      d.setAAD(
        Buffer.concat([header, Buffer.from(canonicalize({ ...c, format: "keywarden.local-kms" }))]),
      );
      d.setAuthTag(wrapped.subarray(55));
      expect(Buffer.concat([d.update(wrapped.subarray(23, 55)), d.final()]).equals(bytes)).toBe(
        true,
      );
      const again = await kms.decrypt(wrapped, c, auth);
      expect(again.use((b) => Buffer.from(b).equals(bytes))).toBe(true);
      if (i % 5 === 0) {
        const others: KmsContext[] =
          c.grantId !== undefined
            ? [
                { userId: c.userId, purpose: c.purpose },
                { ...c, grantId: `${c.grantId}x` },
              ]
            : [
                { ...c, grantId: "g0" },
                { ...c, purpose: "trading-grant" },
              ];
        for (const o of others)
          await expect(kms.decrypt(wrapped, o, auth)).rejects.toMatchObject({
            code: "ERR_VAULT_DECRYPT_FAILED",
          });
      }
    }
  });
});
