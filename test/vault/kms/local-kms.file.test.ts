import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../../src/secret.js";
import { createMasterKeyFile, LocalKms } from "../../../src/vault/kms/local.js";
import type { KmsAuthorization } from "../../../src/vault/kms/provider.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "kw-lkms-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const auth = (userId: string): KmsAuthorization => ({
  kind: "session",
  userId,
  sessionId: "s1",
  token: Secret.fromString("t"),
  expiresAt: undefined,
});
const ctx = { userId: "alice", purpose: "exchange-api-secret" } as const;

describe("LocalKms", () => {
  it("createMasterKeyFile writes a 0600 file and refuses to overwrite", () => {
    const p = join(tmp(), "master.key");
    createMasterKeyFile(p);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readFileSync(p, "utf8")).toMatch(/^keywarden-local-kms-v1 [A-Za-z0-9_-]{43}\n$/);
    expect(() => createMasterKeyFile(p)).toThrow(
      expect.objectContaining({ code: "ERR_KMS_MASTER_KEY" }),
    );
  });

  it("Precondition: a master key file readable or writable by group or others is refused.", () => {
    const p = join(tmp(), "master.key");
    createMasterKeyFile(p);
    for (const mode of [0o640, 0o604, 0o620, 0o644]) {
      chmodSync(p, mode);
      expect(() => LocalKms.fromKeyFile(p)).toThrow(
        expect.objectContaining({ code: "ERR_KMS_MASTER_KEY" }),
      );
    }
    chmodSync(p, 0o400);
    expect(LocalKms.fromKeyFile(p).keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("refuses a malformed key file without echoing its content", () => {
    const p = join(tmp(), "bad.key");
    writeFileSync(p, "CANARY-not-a-key\n", { mode: 0o600 });
    const err = (() => {
      try {
        LocalKms.fromKeyFile(p);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toMatchObject({ code: "ERR_KMS_MASTER_KEY" });
    expect(String(err?.message)).not.toContain("CANARY");
  });

  it("reads the master key from the environment and deletes the variable", async () => {
    const raw = randomBytes(32);
    process.env.KW_TEST_MASTER = raw.toString("base64");
    const kms = LocalKms.fromEnv("KW_TEST_MASTER");
    expect(process.env.KW_TEST_MASTER).toBeUndefined();
    const g = await kms.generateDataKey(ctx, auth("alice"));
    const again = new LocalKms(Secret.fromBytes(new Uint8Array(raw)));
    const dk = await again.decrypt(g.wrapped, ctx, auth("alice"));
    expect(dk.equals(g.plaintext)).toBe(true);
  });

  it("a wrapped key opens only under its own context", async () => {
    const kms = new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))));
    const g = await kms.generateDataKey(ctx, auth("alice"));
    for (const other of [
      { userId: "bob", purpose: "exchange-api-secret" },
      { userId: "alice", purpose: "trading-grant", grantId: "g" },
    ] as const) {
      await expect(kms.decrypt(g.wrapped, other, auth(other.userId))).rejects.toMatchObject({
        code: "ERR_VAULT_DECRYPT_FAILED",
      });
    }
  });

  it("Precondition: the authorization must be for the user named in the encryption context.", async () => {
    const kms = new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))));
    const g = await kms.generateDataKey(ctx, auth("alice"));
    await expect(kms.decrypt(g.wrapped, ctx, auth("bob"))).rejects.toMatchObject({
      code: "ERR_KMS_ACCESS_DENIED",
    });
    await expect(kms.generateDataKey(ctx, auth("bob"))).rejects.toMatchObject({
      code: "ERR_KMS_ACCESS_DENIED",
    });
  });

  it("re-wraps from an old master key to the current one", async () => {
    const oldKey = new Uint8Array(randomBytes(32));
    const old = new LocalKms(Secret.copyOf(oldKey));
    const g = await old.generateDataKey(ctx, auth("alice"));
    const next = new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))), [
      Secret.copyOf(oldKey),
    ]);
    const r = await next.reEncrypt(g.wrapped, ctx, ctx, auth("alice"));
    expect(r.keyId).toBe(next.keyId);
    expect(r.keyId).not.toBe(old.keyId);
    const onlyNew = new LocalKms(Secret.fromBytes(new Uint8Array(32).fill(0)), []);
    await expect(onlyNew.decrypt(r.wrapped, ctx, auth("alice"))).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
    expect((await next.decrypt(r.wrapped, ctx, auth("alice"))).equals(g.plaintext)).toBe(true);
    await expect(old.decrypt(r.wrapped, ctx, auth("alice"))).rejects.toMatchObject({
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
  });
});

describe("LocalKms lifetime", () => {
  it("close() wipes the master keys: nothing unwraps afterwards", async () => {
    const kms = new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))));
    const g = await kms.generateDataKey(ctx, auth("alice"));
    kms.close();
    await expect(kms.decrypt(g.wrapped, ctx, auth("alice"))).rejects.toMatchObject({
      code: "ERR_KMS_MASTER_KEY",
    });
  });
});
