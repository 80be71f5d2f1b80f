/**
 * KMS keys held by the local server: symmetric keys (AES-256-GCM with the canonical encryption
 * context as AAD) and ECC signing keys, per region, with multi-Region (`mrk-`) replicas sharing
 * key material.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  randomBytes,
  randomUUID,
} from "node:crypto";
import { p256, p384 } from "@noble/curves/nist.js";
import { type ParsedPolicy, type PolicyDocument, parsePolicy } from "./policy.js";

/** KMS key states this server models. */
export type KeyState =
  | "Enabled"
  | "Disabled"
  | "PendingDeletion"
  | "PendingImport"
  | "PendingReplicaDeletion"
  | "Unavailable";

/** Key specs: symmetric encryption, or ECC signing (ECDSA_SHA_256 / ECDSA_SHA_384). */
export type KeySpec = "SYMMETRIC_DEFAULT" | "ECC_NIST_P256" | "ECC_NIST_P384";

/** One key in {@link AwsLocalOptions.keys}. */
export interface KeyOptions {
  /** Key id (UUID form, or `mrk-…` for multi-Region keys). Default: random. */
  readonly keyId?: string;
  /** The key policy (standard AWS JSON grammar). Validated at start. */
  readonly policy: PolicyDocument;
  /** Default `SYMMETRIC_DEFAULT`. */
  readonly spec?: KeySpec;
  /** Initial state in every region. Default `Enabled`. */
  readonly state?: KeyState;
  /** Multi-Region key: `keyId` must start with `mrk-`; replicas share key material. */
  readonly multiRegion?: boolean;
  /** Regions the key (or its replicas) exists in. Default: the first region (all regions for MRKs). */
  readonly regions?: readonly string[];
  /** Alias names (`alias/…`), usable in every region the key exists in. */
  readonly aliases?: readonly string[];
  readonly description?: string;
}

interface Replica {
  state: KeyState;
  policy: ParsedPolicy;
  /** The policy as last set, re-serialized for GetKeyPolicy. */
  policyText: string;
  /** Epoch ms of the scheduled deletion while PendingDeletion. */
  deletionDateMs?: number;
  /** Automatic rotation period in days, when enabled. */
  rotationPeriodDays?: number;
}

const SIGNING = {
  ECC_NIST_P256: { curve: p256, crv: "P-256", algorithm: "ECDSA_SHA_256", hashLength: 32 },
  ECC_NIST_P384: { curve: p384, crv: "P-384", algorithm: "ECDSA_SHA_384", hashLength: 48 },
} as const;

/** A key and its per-region replicas. Key material never leaves this object except as ciphertext. */
export class LocalKey {
  readonly id: string;
  readonly spec: KeySpec;
  readonly multiRegion: boolean;
  readonly description: string;
  readonly createdAt = new Date();
  readonly aliases: readonly string[];
  readonly replicas = new Map<string, Replica>();
  readonly #materials: Buffer[] = [];
  readonly #signingKey: Uint8Array | undefined;

  constructor(options: KeyOptions, defaultRegions: readonly string[]) {
    this.multiRegion = options.multiRegion ?? false;
    this.id =
      options.keyId ?? (this.multiRegion ? `mrk-${randomBytes(16).toString("hex")}` : randomUUID());
    if (this.multiRegion !== this.id.startsWith("mrk-")) {
      throw new Error(
        `key ${this.id}: multi-Region keys (and only they) have ids starting with mrk-`,
      );
    }
    if (
      !/^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9-]{1,64})$/.test(
        this.id,
      )
    ) {
      throw new Error(`key ${this.id}: invalid key id`);
    }
    this.spec = options.spec ?? "SYMMETRIC_DEFAULT";
    this.description = options.description ?? "";
    this.aliases = options.aliases ?? [];
    for (const alias of this.aliases) {
      if (!/^alias\/[A-Za-z0-9/_-]{1,250}$/.test(alias) || alias.startsWith("alias/aws/")) {
        throw new Error(`key ${this.id}: invalid alias ${alias}`);
      }
    }
    const regions =
      options.regions ?? (this.multiRegion ? defaultRegions : defaultRegions.slice(0, 1));
    if (regions.length === 0 || (!this.multiRegion && regions.length !== 1)) {
      throw new Error(`key ${this.id}: a single-Region key exists in exactly one region`);
    }
    const policy = parsePolicy(options.policy);
    const policyText = JSON.stringify(options.policy);
    for (const region of regions) {
      this.replicas.set(region, { state: options.state ?? "Enabled", policy, policyText });
    }
    if (this.spec === "SYMMETRIC_DEFAULT") {
      this.#materials.push(randomBytes(32));
      this.#signingKey = undefined;
    } else {
      this.#signingKey = SIGNING[this.spec].curve.utils.randomSecretKey();
    }
  }

  get usage(): "ENCRYPT_DECRYPT" | "SIGN_VERIFY" {
    return this.spec === "SYMMETRIC_DEFAULT" ? "ENCRYPT_DECRYPT" : "SIGN_VERIFY";
  }

  arn(region: string, accountId: string): string {
    return `arn:aws:kms:${region}:${accountId}:key/${this.id}`;
  }

  /** Adds new key material (like automatic rotation); old ciphertexts still decrypt. */
  rotate(): void {
    if (this.spec !== "SYMMETRIC_DEFAULT") throw new Error("only symmetric keys rotate");
    this.#materials.push(randomBytes(32));
  }

  /** AES-256-GCM under the newest material; AAD = blob header ‖ canonical context. */
  /* Precondition: the encryption context is bound as AES-GCM associated data, so a different context never decrypts. */
  encrypt(plaintext: Buffer, context: Readonly<Record<string, string>>): Buffer {
    const index = this.#materials.length - 1;
    const header = blobHeader(this.id, index, randomBytes(12));
    const cipher = createCipheriv(
      "aes-256-gcm",
      this.#materials[index] as Buffer,
      header.subarray(-12),
    );
    cipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, body, cipher.getAuthTag()]);
  }

  /** Decrypts a blob produced by {@link encrypt}; `undefined` on any mismatch or tamper. */
  decrypt(blob: ParsedBlob, context: Readonly<Record<string, string>>): Buffer | undefined {
    const material = this.#materials[blob.materialIndex];
    if (blob.keyId !== this.id || material === undefined) return undefined;
    try {
      const decipher = createDecipheriv("aes-256-gcm", material, blob.iv);
      decipher.setAAD(Buffer.concat([blob.header, canonicalContext(context)]));
      decipher.setAuthTag(blob.tag);
      return Buffer.concat([decipher.update(blob.body), decipher.final()]);
    } catch {
      return undefined;
    }
  }

  get signingAlgorithm(): string | undefined {
    return this.spec === "SYMMETRIC_DEFAULT" ? undefined : SIGNING[this.spec].algorithm;
  }

  /** ECDSA signature (DER) over `message` (RAW: hashed here; DIGEST: used as given). */
  sign(message: Uint8Array, messageType: "RAW" | "DIGEST"): Buffer {
    if (this.spec === "SYMMETRIC_DEFAULT" || this.#signingKey === undefined)
      throw new Error("not a signing key");
    const { curve } = SIGNING[this.spec];
    const sig = curve.sign(message, this.#signingKey, {
      prehash: messageType === "RAW",
      format: "der",
    });
    return Buffer.from(sig);
  }

  verify(message: Uint8Array, signature: Uint8Array, messageType: "RAW" | "DIGEST"): boolean {
    if (this.spec === "SYMMETRIC_DEFAULT" || this.#signingKey === undefined) return false;
    const { curve } = SIGNING[this.spec];
    try {
      return curve.verify(signature, message, curve.getPublicKey(this.#signingKey, false), {
        prehash: messageType === "RAW",
        format: "der",
      });
    } catch {
      return false;
    }
  }

  /** Digest length the signing algorithm expects for `MessageType: DIGEST`. */
  get digestLength(): number {
    return this.spec === "SYMMETRIC_DEFAULT" ? 0 : SIGNING[this.spec].hashLength;
  }

  /** SubjectPublicKeyInfo DER, as `GetPublicKey` returns it. */
  publicKeyDer(): Buffer {
    if (this.spec === "SYMMETRIC_DEFAULT" || this.#signingKey === undefined)
      throw new Error("not a signing key");
    const { curve, crv } = SIGNING[this.spec];
    const point = curve.getPublicKey(this.#signingKey, false);
    const size = (point.length - 1) / 2;
    const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
    const jwk = {
      kty: "EC",
      crv,
      x: b64u(point.subarray(1, 1 + size)),
      y: b64u(point.subarray(1 + size)),
    };
    return createPublicKey({ key: jwk, format: "jwk" }).export({ type: "spki", format: "der" });
  }
}

const MAGIC = Buffer.from("KWL", "ascii");
const FORMAT_VERSION = 1;

/** Header: "KWL" ‖ version ‖ idLength(u8) ‖ keyId ‖ materialIndex(u16be) ‖ iv(12). */
function blobHeader(keyId: string, materialIndex: number, iv: Buffer): Buffer {
  const id = Buffer.from(keyId, "utf8");
  const fixed = Buffer.alloc(2);
  fixed.writeUInt16BE(materialIndex);
  return Buffer.concat([MAGIC, Buffer.of(FORMAT_VERSION, id.length), id, fixed, iv]);
}

/** A ciphertext blob split into its parts (not yet authenticated). */
export interface ParsedBlob {
  readonly keyId: string;
  readonly materialIndex: number;
  readonly header: Buffer;
  readonly iv: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

/** Splits a blob; `undefined` if it is not one of ours (→ InvalidCiphertextException). */
export function parseBlob(blob: Buffer): ParsedBlob | undefined {
  if (blob.length < 5 || !blob.subarray(0, 3).equals(MAGIC) || blob[3] !== FORMAT_VERSION)
    return undefined;
  const idLength = blob[4] as number;
  const headerLength = 5 + idLength + 2 + 12;
  if (blob.length < headerLength + 16) return undefined;
  const header = blob.subarray(0, headerLength);
  return {
    keyId: blob.subarray(5, 5 + idLength).toString("utf8"),
    materialIndex: blob.readUInt16BE(5 + idLength),
    header,
    iv: header.subarray(-12),
    body: blob.subarray(headerLength, blob.length - 16),
    tag: blob.subarray(blob.length - 16),
  };
}

/** Canonical, unambiguous encoding of an encryption context: JSON of [key, value] pairs sorted by key. */
export function canonicalContext(context: Readonly<Record<string, string>>): Buffer {
  const pairs = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), "utf8");
}

/** Replaces a key's policy in the given regions (all its regions when omitted). */
export function setPolicy(
  key: LocalKey,
  policy: PolicyDocument,
  regions?: readonly string[],
): void {
  const parsed = parsePolicy(policy);
  const text = JSON.stringify(policy);
  for (const [region, replica] of key.replicas) {
    if (regions === undefined || regions.includes(region)) {
      replica.policy = parsed;
      replica.policyText = text;
    }
  }
}
