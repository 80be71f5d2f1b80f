/**
 * A checkpoint {@link Signer} whose Ed25519 key never leaves a KMS: AWS KMS key spec
 * `ECC_NIST_EDWARDS25519`, signing algorithm `ED25519_SHA_512` with `MessageType: "RAW"` (pure
 * Ed25519 per RFC 8032, so signatures verify as ordinary signed-note Ed25519 signatures). Every
 * checkpoint signature then appears in the KMS audit trail (CloudTrail), so an operator cannot
 * re-sign a rewritten history without leaving a record, and cannot take the key away.
 *
 * The client is injected and typed structurally: `new KMS({...})` from `@aws-sdk/client-kms`
 * satisfies {@link KmsSigningClientLike}; this file does not import the SDK.
 *
 * @packageDocumentation
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { KeywardenError, type KeywardenErrorCode } from "../../errors.js";
import { bytesEqual } from "../primitives/portable.js";
import { computeKeyId, formatVerifierKey, isValidKeyName, SIG_TYPE_ED25519 } from "./note.js";
import type { Signer } from "./signer.js";

/** The subset of the AWS SDK v3 `KMS` client this signer uses. */
export interface KmsSigningClientLike {
  sign(input: {
    KeyId: string;
    Message: Uint8Array;
    MessageType: "RAW";
    SigningAlgorithm: "ED25519_SHA_512";
  }): Promise<{ Signature?: Uint8Array | undefined; KeyId?: string | undefined }>;
  getPublicKey(input: { KeyId: string }): Promise<{
    PublicKey?: Uint8Array | undefined;
    KeySpec?: string | undefined;
    KeyUsage?: string | undefined;
    SigningAlgorithms?: string[] | undefined;
  }>;
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE, AlgorithmIdentifier 1.3.101.112, BIT STRING. */
const ED25519_SPKI_PREFIX = Uint8Array.of(
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
);

/** KMS Sign accepts at most 4096 bytes of RAW message; checkpoints are a few hundred. */
const MAX_KMS_MESSAGE = 4096;

function kmsError(err: unknown): KeywardenError {
  const name = (err as { name?: unknown })?.name;
  const code: KeywardenErrorCode =
    name === "AccessDeniedException"
      ? "ERR_KMS_ACCESS_DENIED"
      : name === "ThrottlingException" || name === "LimitExceededException"
        ? "ERR_KMS_THROTTLED"
        : name === "DisabledException" ||
            name === "NotFoundException" ||
            name === "KMSInvalidStateException"
          ? "ERR_KMS_KEY_UNAVAILABLE"
          : "ERR_KMS_UNAVAILABLE";
  // Only the error's name is kept: SDK errors carry request metadata we do not need to propagate.
  return new KeywardenError(code, "KMS signing failed", {
    details: { kmsError: typeof name === "string" ? name : null },
  });
}

/**
 * Creates a signer backed by a KMS Ed25519 key. Reads and checks the public key once; every
 * signature KMS returns is verified against it before use (a KMS or network fault can never yield
 * a checkpoint that does not verify).
 *
 * @example
 * ```ts
 * import { KMS } from "@aws-sdk/client-kms";
 * const signer = await createKmsEd25519Signer({
 *   kms: new KMS({ region: "eu-west-1" }),
 *   keyId: "alias/keywarden-audit-log",
 *   keyName: "audit.example.com",
 * });
 * ```
 * @throws {KeywardenError} `ERR_KMS_KEY_UNAVAILABLE` when the key is not an Ed25519 signing key;
 * `ERR_KMS_*` on KMS failures; `ERR_INVALID_ARGUMENT` for an invalid key name.
 */
export async function createKmsEd25519Signer(options: {
  kms: KmsSigningClientLike;
  keyId: string;
  keyName: string;
}): Promise<Signer> {
  const { kms, keyId, keyName } = options;
  if (!isValidKeyName(keyName))
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid key name");
  let info: Awaited<ReturnType<KmsSigningClientLike["getPublicKey"]>>;
  try {
    info = await kms.getPublicKey({ KeyId: keyId });
  } catch (err) {
    throw kmsError(err);
  }
  const der = info.PublicKey;
  /* Precondition: only an ECC_NIST_EDWARDS25519 SIGN_VERIFY key offering ED25519_SHA_512 is accepted. */
  if (
    info.KeySpec !== "ECC_NIST_EDWARDS25519" ||
    (info.KeyUsage !== undefined && info.KeyUsage !== "SIGN_VERIFY") ||
    (info.SigningAlgorithms !== undefined && !info.SigningAlgorithms.includes("ED25519_SHA_512")) ||
    !(der instanceof Uint8Array) ||
    der.length !== 44 ||
    !bytesEqual(der.subarray(0, 12), ED25519_SPKI_PREFIX)
  ) {
    throw new KeywardenError("ERR_KMS_KEY_UNAVAILABLE", "KMS key is not an Ed25519 signing key");
  }
  const publicKey = der.slice(12);
  return {
    keyName,
    keyId: computeKeyId(keyName, SIG_TYPE_ED25519, publicKey),
    publicKey,
    verifierKey: formatVerifierKey(keyName, SIG_TYPE_ED25519, publicKey),
    async sign(message) {
      if (message.length > MAX_KMS_MESSAGE) {
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "message too large for KMS signing");
      }
      let sig: Uint8Array | undefined;
      try {
        sig = (
          await kms.sign({
            KeyId: keyId,
            Message: message,
            MessageType: "RAW",
            SigningAlgorithm: "ED25519_SHA_512",
          })
        ).Signature;
      } catch (err) {
        throw kmsError(err);
      }
      /* Postcondition: a KMS signature is used only if it verifies under the key's public key. */
      if (
        !(sig instanceof Uint8Array) ||
        sig.length !== 64 ||
        !ed25519.verify(sig, message, publicKey, { zip215: false })
      ) {
        throw new KeywardenError("ERR_KMS_UNAVAILABLE", "KMS returned an invalid signature");
      }
      return new Uint8Array(sig);
    },
  };
}
