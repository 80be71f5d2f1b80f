import { createHash, createPublicKey, createVerify } from "node:crypto";
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ReEncryptCommand,
  SignCommand,
  VerifyCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsLocal, startAwsLocal } from "../support/aws-local/index.js";
import { ADMIN_KEY_ID, adminKeyPolicy, adminKms, signRequest } from "./fixtures.js";

const SECOND_KEY_ID = "0000aaaa-00aa-00aa-00aa-000000000002";
const SIGNING_KEY_ID = "0000aaaa-00aa-00aa-00aa-0000000000ec";
const P384_KEY_ID = "0000aaaa-00aa-00aa-00aa-000000000384";

async function failure(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e as Error,
  );
}

describe("aws-local KMS operations through the real KMSClient (static admin credentials)", () => {
  let aws: AwsLocal;
  let kms: KMSClient;

  beforeAll(async () => {
    aws = await startAwsLocal({
      keys: [
        { keyId: ADMIN_KEY_ID, policy: adminKeyPolicy(), aliases: ["alias/vault"] },
        { keyId: SECOND_KEY_ID, policy: adminKeyPolicy() },
        { keyId: SIGNING_KEY_ID, policy: adminKeyPolicy(), spec: "ECC_NIST_P256" },
        { keyId: P384_KEY_ID, policy: adminKeyPolicy(), spec: "ECC_NIST_P384" },
      ],
    });
    kms = adminKms(aws);
  });
  afterAll(async () => {
    kms.destroy();
    await aws.close();
  });

  it("GenerateDataKey then Decrypt returns the same 32-byte data key", async () => {
    const context = { userId: "u-1", purpose: "exchange-api-secret" };
    const generated = await kms.send(
      new GenerateDataKeyCommand({
        KeyId: ADMIN_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: context,
      }),
    );
    expect(generated.Plaintext?.length).toBe(32);
    const opened = await kms.send(
      new DecryptCommand({
        CiphertextBlob: generated.CiphertextBlob,
        EncryptionContext: { purpose: "exchange-api-secret", userId: "u-1" },
      }),
    );
    expect(Buffer.from(opened.Plaintext as Uint8Array)).toEqual(
      Buffer.from(generated.Plaintext as Uint8Array),
    );
    expect(opened.KeyId).toBe(aws.keyArn(ADMIN_KEY_ID));
    expect(opened.EncryptionAlgorithm).toBe("SYMMETRIC_DEFAULT");
  });

  it("the encryption context is bound as AES-GCM associated data, so a different context never decrypts", async () => {
    const generated = await kms.send(
      new GenerateDataKeyCommand({
        KeyId: ADMIN_KEY_ID,
        NumberOfBytes: 32,
        EncryptionContext: { userId: "u-1" },
      }),
    );
    for (const EncryptionContext of [
      { userId: "u-2" },
      {},
      { userId: "u-1", extra: "x" },
      { userid: "u-1" },
    ]) {
      const error = await failure(
        kms.send(
          new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext }),
        ),
      );
      expect(error.name).toBe("InvalidCiphertextException");
      expect(error.$metadata?.httpStatusCode).toBe(400);
    }
  });

  it("any flipped ciphertext byte or truncation fails with InvalidCiphertextException", async () => {
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: "alias/vault", Plaintext: Buffer.from("CANARY-plaintext") }),
    );
    const blob = Buffer.from(CiphertextBlob as Uint8Array);
    for (const index of [0, 3, 5, blob.length - 20, blob.length - 1]) {
      const tampered = Buffer.from(blob);
      tampered[index] = (tampered[index] as number) ^ 0x01;
      const error = await failure(kms.send(new DecryptCommand({ CiphertextBlob: tampered })));
      expect(error.name).toBe("InvalidCiphertextException");
    }
    const truncated = await failure(
      kms.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, blob.length - 1) })),
    );
    expect(truncated.name).toBe("InvalidCiphertextException");
  });

  it("Encrypt/Decrypt via alias, key ARN and alias ARN; KeyId naming another key → IncorrectKeyException", async () => {
    const arn = aws.keyArn(ADMIN_KEY_ID);
    const aliasArn = `arn:aws:kms:us-east-1:${aws.accountId}:alias/vault`;
    for (const KeyId of ["alias/vault", arn, aliasArn, ADMIN_KEY_ID]) {
      const { CiphertextBlob, KeyId: used } = await kms.send(
        new EncryptCommand({ KeyId, Plaintext: Buffer.from("hello") }),
      );
      expect(used).toBe(arn);
      const out = await kms.send(new DecryptCommand({ CiphertextBlob, KeyId }));
      expect(Buffer.from(out.Plaintext as Uint8Array).toString()).toBe("hello");
    }
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: ADMIN_KEY_ID, Plaintext: Buffer.from("x") }),
    );
    expect(
      (await failure(kms.send(new DecryptCommand({ CiphertextBlob, KeyId: SECOND_KEY_ID })))).name,
    ).toBe("IncorrectKeyException");
    const missing = await failure(
      kms.send(new EncryptCommand({ KeyId: "alias/nope", Plaintext: Buffer.from("x") })),
    );
    expect([missing.name, missing.$metadata?.httpStatusCode]).toEqual(["NotFoundException", 404]);
  });

  it("ReEncrypt moves a ciphertext to another key and context without returning plaintext", async () => {
    const generated = await kms.send(
      new GenerateDataKeyCommand({
        KeyId: ADMIN_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: { userId: "u-1" },
      }),
    );
    const moved = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: generated.CiphertextBlob,
        SourceEncryptionContext: { userId: "u-1" },
        DestinationKeyId: SECOND_KEY_ID,
        DestinationEncryptionContext: { userId: "u-1", v: "2" },
      }),
    );
    expect(moved.SourceKeyId).toBe(aws.keyArn(ADMIN_KEY_ID));
    expect(moved.KeyId).toBe(aws.keyArn(SECOND_KEY_ID));
    expect(Object.keys(moved)).not.toContain("Plaintext");
    const opened = await kms.send(
      new DecryptCommand({
        CiphertextBlob: moved.CiphertextBlob,
        EncryptionContext: { userId: "u-1", v: "2" },
      }),
    );
    expect(Buffer.from(opened.Plaintext as Uint8Array)).toEqual(
      Buffer.from(generated.Plaintext as Uint8Array),
    );
    const wrongSource = await failure(
      kms.send(
        new ReEncryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          DestinationKeyId: SECOND_KEY_ID,
        }),
      ),
    );
    expect(wrongSource.name).toBe("InvalidCiphertextException");
  });

  it("ciphertexts made before a key-material rotation still decrypt", async () => {
    const before = await kms.send(
      new EncryptCommand({ KeyId: SECOND_KEY_ID, Plaintext: Buffer.from("old") }),
    );
    aws.rotateKeyMaterial(SECOND_KEY_ID);
    const after = await kms.send(
      new EncryptCommand({ KeyId: SECOND_KEY_ID, Plaintext: Buffer.from("new") }),
    );
    for (const [blob, text] of [
      [before.CiphertextBlob, "old"],
      [after.CiphertextBlob, "new"],
    ] as const) {
      const out = await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
      expect(Buffer.from(out.Plaintext as Uint8Array).toString()).toBe(text);
    }
  });

  it("validates GenerateDataKey sizes and refuses plaintext-free variants' Plaintext", async () => {
    const none = await failure(kms.send(new GenerateDataKeyCommand({ KeyId: ADMIN_KEY_ID })));
    expect(none.name).toBe("ValidationException");
    const both = await failure(
      kms.send(
        new GenerateDataKeyCommand({ KeyId: ADMIN_KEY_ID, KeySpec: "AES_256", NumberOfBytes: 32 }),
      ),
    );
    expect(both.name).toBe("ValidationException");
    const small = await kms.send(
      new GenerateDataKeyCommand({ KeyId: ADMIN_KEY_ID, KeySpec: "AES_128" }),
    );
    expect(small.Plaintext?.length).toBe(16);
    const withoutPlaintext = await kms.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: ADMIN_KEY_ID, KeySpec: "AES_256" }),
    );
    expect(withoutPlaintext).not.toHaveProperty("Plaintext");
    const opened = await kms.send(
      new DecryptCommand({ CiphertextBlob: withoutPlaintext.CiphertextBlob }),
    );
    expect(opened.Plaintext?.length).toBe(32);
  });

  it("DescribeKey reports spec, usage, state and multi-Region flag", async () => {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: "alias/vault" }));
    expect(KeyMetadata).toMatchObject({
      KeyId: ADMIN_KEY_ID,
      Arn: aws.keyArn(ADMIN_KEY_ID),
      KeyUsage: "ENCRYPT_DECRYPT",
      KeySpec: "SYMMETRIC_DEFAULT",
      KeyState: "Enabled",
      Enabled: true,
      MultiRegion: false,
    });
    expect(KeyMetadata?.CreationDate).toBeInstanceOf(Date);
  });

  it.each([
    [SIGNING_KEY_ID, "ECDSA_SHA_256", "sha256"],
    [P384_KEY_ID, "ECDSA_SHA_384", "sha384"],
  ] as const)(
    "Sign (RAW and DIGEST) verifies with GetPublicKey's SPKI under node:crypto (%s)",
    async (keyId, algorithm, hash) => {
      const { PublicKey, KeySpec, SigningAlgorithms } = await kms.send(
        new GetPublicKeyCommand({ KeyId: keyId }),
      );
      expect(SigningAlgorithms).toEqual([algorithm]);
      expect(KeySpec).toBe(keyId === SIGNING_KEY_ID ? "ECC_NIST_P256" : "ECC_NIST_P384");
      const publicKey = createPublicKey({
        key: Buffer.from(PublicKey as Uint8Array),
        format: "der",
        type: "spki",
      });
      const message = Buffer.from("checkpoint 42");
      const raw = await kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: message,
          MessageType: "RAW",
          SigningAlgorithm: algorithm,
        }),
      );
      expect(
        createVerify(hash)
          .update(message)
          .verify(publicKey, Buffer.from(raw.Signature as Uint8Array)),
      ).toBe(true);
      const digest = createHash(hash).update(message).digest();
      const signed = await kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: digest,
          MessageType: "DIGEST",
          SigningAlgorithm: algorithm,
        }),
      );
      expect(
        createVerify(hash)
          .update(message)
          .verify(publicKey, Buffer.from(signed.Signature as Uint8Array)),
      ).toBe(true);
      const verified = await kms.send(
        new VerifyCommand({
          KeyId: keyId,
          Message: message,
          Signature: raw.Signature,
          SigningAlgorithm: algorithm,
        }),
      );
      expect(verified.SignatureValid).toBe(true);
      const forged = await failure(
        kms.send(
          new VerifyCommand({
            KeyId: keyId,
            Message: Buffer.from("checkpoint 43"),
            Signature: raw.Signature,
            SigningAlgorithm: algorithm,
          }),
        ),
      );
      expect(forged.name).toBe("KMSInvalidSignatureException");
    },
  );

  it("signing keys refuse Encrypt and symmetric keys refuse Sign (InvalidKeyUsageException)", async () => {
    const encrypt = await failure(
      kms.send(new EncryptCommand({ KeyId: SIGNING_KEY_ID, Plaintext: Buffer.from("x") })),
    );
    expect(encrypt.name).toBe("InvalidKeyUsageException");
    const sign = await failure(
      kms.send(
        new SignCommand({
          KeyId: ADMIN_KEY_ID,
          Message: Buffer.from("x"),
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      ),
    );
    expect(sign.name).toBe("InvalidKeyUsageException");
  });

  it("unknown targets (including Object.prototype names) → UnknownOperationException; bad JSON → SerializationException", async () => {
    const call = async (target: string, body: string) => {
      const request = signRequest({
        endpoint: aws.kmsEndpoint,
        service: "kms",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
        body,
        accessKeyId: aws.adminCredentials.accessKeyId,
        secret: aws.adminCredentials.secretAccessKey,
      });
      const response = await fetch(aws.kmsEndpoint, { method: "POST", ...request });
      return [response.status, ((await response.json()) as { __type: string }).__type];
    };
    expect(await call("TrentService.constructor", "{}")).toEqual([
      400,
      "UnknownOperationException",
    ]);
    expect(await call("TrentService.CreateGrant", "{}")).toEqual([
      400,
      "UnknownOperationException",
    ]);
    expect(await call("Other.Decrypt", "{}")).toEqual([400, "UnknownOperationException"]);
    expect(await call("TrentService.Decrypt", "{nope")).toEqual([400, "SerializationException"]);
    expect(await call("TrentService.Decrypt", "[]")).toEqual([400, "SerializationException"]);
    expect(await call("TrentService.Decrypt", JSON.stringify({ CiphertextBlob: "***" }))).toEqual([
      400,
      "SerializationException",
    ]);
    expect(
      await call(
        "TrentService.GenerateDataKey",
        JSON.stringify({ KeyId: ADMIN_KEY_ID, KeySpec: "AES_256", GrantTokens: ["t"] }),
      ),
    ).toEqual([400, "InvalidGrantTokenException"]);
  });
});
