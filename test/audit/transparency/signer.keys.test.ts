import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import type { KMS } from "@aws-sdk/client-kms";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { concat } from "../../../src/audit/primitives/bytes.js";
import {
  createKmsEd25519Signer,
  type KmsSigningClientLike,
} from "../../../src/audit/transparency/kms-signer.js";
import { openNote, parseVerifierKey, signNote } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer, writeSignerKeyFile } from "../../../src/audit/transparency/signer.js";
import { isKeywardenError } from "../../../src/errors.js";
import { Secret } from "../../../src/secret.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-signer-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("LocalEd25519Signer", () => {
  it("generates a key, writes a 0600 key file, loads it back and signs notes its verifier key opens", async () => {
    const { signer, privateKey } = LocalEd25519Signer.generate("audit.example.com");
    const path = join(dir, "audit.key");
    await writeSignerKeyFile(path, privateKey);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const loaded = await LocalEd25519Signer.fromKeyFile(path);
    expect(loaded.verifierKey).toBe(signer.verifierKey);
    const note = await signNote("hello\n", [loaded]);
    expect(openNote(note, [parseVerifierKey(signer.verifierKey)]).text).toBe("hello\n");
    await expect(writeSignerKeyFile(path, privateKey)).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_INVALID_ARGUMENT"),
    );
  });

  it("Precondition: a signing key file readable or writable by group or others is refused.", async () => {
    const { privateKey } = LocalEd25519Signer.generate("audit.example.com");
    const path = join(dir, "audit.key");
    await writeSignerKeyFile(path, privateKey);
    await chmod(path, 0o640);
    await expect(LocalEd25519Signer.fromKeyFile(path)).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_INVALID_ARGUMENT"),
    );
  });

  it("Precondition: a signer key whose key ID does not match its public key is rejected.", () => {
    const { privateKey } = LocalEd25519Signer.generate("audit.example.com");
    const text = privateKey.useText((t) => t);
    const wrongName = text.replace("audit.example.com", "audit.example.org");
    expect(() => LocalEd25519Signer.fromSecret(Secret.fromString(wrongName))).toThrow(
      expect.toSatisfy((e) => isKeywardenError(e, "ERR_INVALID_ARGUMENT")),
    );
  });

  it("reads the key from the environment once and removes the variable", () => {
    const { signer, privateKey } = LocalEd25519Signer.generate("audit.example.com");
    process.env.KW_TEST_SIGNING_KEY = privateKey.useText((t) => t);
    expect(LocalEd25519Signer.fromEnv("KW_TEST_SIGNING_KEY").verifierKey).toBe(signer.verifierKey);
    expect(process.env.KW_TEST_SIGNING_KEY).toBeUndefined();
    expect(() => LocalEd25519Signer.fromEnv("KW_TEST_SIGNING_KEY")).toThrow(
      expect.toSatisfy((e) => isKeywardenError(e, "ERR_ENV_SECRET_MISSING")),
    );
  });

  it("never reveals the private key: inspect, JSON, String, errors on bad keys, files other than the key file", async () => {
    const { signer, privateKey } = LocalEd25519Signer.generate("audit.example.com");
    const seedB64 = privateKey.useText((t) => t.trim().split("+").slice(4).join("+"));
    const keyText = privateKey.useText((t) => t);
    const surfaces = [
      inspect(signer, { depth: 5, showHidden: true }),
      JSON.stringify(signer),
      String(signer),
      inspect(privateKey),
      JSON.stringify({ privateKey }),
    ];
    for (const s of surfaces) {
      expect(s).not.toContain(seedB64);
      expect(s).not.toContain("PRIVATE+KEY");
    }
    // a corrupted key with a canary: the error must not carry it
    const canary = `CANARY-${randomBytes(6).toString("hex")}`;
    try {
      LocalEd25519Signer.fromSecret(Secret.fromString(`${keyText.trim()}${canary}`));
      expect.unreachable();
    } catch (err) {
      const all = `${inspect(err, { depth: 10, showHidden: true })}${JSON.stringify(err)}${(err as Error).stack}`;
      expect(all).not.toContain(canary);
      expect(all).not.toContain(seedB64);
    }
    await writeSignerKeyFile(join(dir, "k"), privateKey);
    expect(await readdir(dir)).toEqual(["k"]);
    expect(await readFile(join(dir, "k"), "utf8")).toBe(keyText);
  });
});

describe("KMS-held Ed25519 signer", () => {
  // A stand-in for AWS KMS holding a real Ed25519 key: the signer under test is the keywarden code.
  function fakeKms(opts: { keySpec?: string; corrupt?: boolean; fail?: string } = {}) {
    const seed = ed25519.utils.randomSecretKey();
    const pub = ed25519.getPublicKey(seed);
    const spki = concat(
      Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00),
      pub,
    );
    const calls: unknown[] = [];
    const kms: KmsSigningClientLike = {
      async getPublicKey() {
        return {
          PublicKey: spki,
          KeySpec: opts.keySpec ?? "ECC_NIST_EDWARDS25519",
          KeyUsage: "SIGN_VERIFY",
          SigningAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
        };
      },
      async sign(input) {
        calls.push(input);
        if (opts.fail)
          throw Object.assign(new Error("x-amzn-RequestId: 123 secret-ish metadata"), {
            name: opts.fail,
          });
        const sig = ed25519.sign(input.Message, seed);
        if (opts.corrupt) sig[0] = (sig[0] as number) ^ 1;
        return { Signature: sig };
      },
    };
    return { kms, pub, calls };
  }

  it("signs checkpoints with ED25519_SHA_512 over the RAW message; notes verify with the published key", async () => {
    const { kms, calls } = fakeKms();
    const signer = await createKmsEd25519Signer({
      kms,
      keyId: "alias/audit",
      keyName: "audit.example.com",
    });
    const note = await signNote(
      "audit.example.com/keywarden/operator\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
      [signer],
    );
    expect(openNote(note, [parseVerifierKey(signer.verifierKey)]).verified).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      KeyId: "alias/audit",
      MessageType: "RAW",
      SigningAlgorithm: "ED25519_SHA_512",
    });
  });

  it("Precondition: only an ECC_NIST_EDWARDS25519 SIGN_VERIFY key offering ED25519_SHA_512 is accepted.", async () => {
    const { kms } = fakeKms({ keySpec: "ECC_NIST_P256" });
    await expect(createKmsEd25519Signer({ kms, keyId: "k", keyName: "n" })).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_KMS_KEY_UNAVAILABLE"),
    );
  });

  it("Postcondition: a KMS signature is used only if it verifies under the key's public key.", async () => {
    const { kms } = fakeKms({ corrupt: true });
    const signer = await createKmsEd25519Signer({ kms, keyId: "k", keyName: "n" });
    await expect(signer.sign(new Uint8Array(10))).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_KMS_UNAVAILABLE"),
    );
  });

  it("maps KMS failures to typed errors without carrying the SDK error", async () => {
    const { kms } = fakeKms({ fail: "AccessDeniedException" });
    const signer = await createKmsEd25519Signer({ kms, keyId: "k", keyName: "n" });
    const err = await signer.sign(new Uint8Array(1)).catch((e: unknown) => e);
    expect(isKeywardenError(err, "ERR_KMS_ACCESS_DENIED")).toBe(true);
    expect(inspect(err, { depth: 10 })).not.toContain("RequestId");
  });

  it("the AWS SDK KMS client satisfies the structural interface (types only)", () => {
    expectTypeOf<KMS>().toExtend<KmsSigningClientLike>();
  });
});
