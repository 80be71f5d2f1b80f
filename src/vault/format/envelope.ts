/**
 * The sealed-blob format (docs/vault-format.md): AES-256-GCM under a user's data key, with a
 * 4-byte self-describing header that is also authenticated, and associated data that binds the
 * blob to where it belongs (user, exchange, credential, revision, format version).
 *
 * ```
 * 0      2        3      4            16                 n-16        n
 * | "KW" | version | kind | IV (12 B)  | ciphertext        | tag (16 B) |
 * AAD = header (4 B) || RFC 8785 canonical JSON of the context
 * ```
 *
 * @packageDocumentation
 */
import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { DECRYPT_FAILED_MESSAGE, KeywardenError } from "../../errors.js";

/** The format version written by this release. */
export const FORMAT_VERSION = 1;
/** What a sealed blob holds; part of the header and so of the associated data. */
export const BLOB_KIND = { credential: 1, manifest: 2 } as const;
/** Header bytes: magic "KW", version, kind. */
export const HEADER_LENGTH = 4;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
/** Smallest possible blob: header, IV, empty ciphertext, tag. */
export const MIN_BLOB_LENGTH = HEADER_LENGTH + IV_LENGTH + TAG_LENGTH;
/** Largest blob accepted (1 MiB); credentials are a few hundred bytes. */
export const MAX_BLOB_LENGTH = 1 << 20;

const MAGIC_0 = 0x4b; // "K"
const MAGIC_1 = 0x57; // "W"

/** Associated data of a sealed credential set. */
export interface CredentialAad {
  readonly userId: string;
  readonly exchange: string;
  readonly credentialId: string;
  readonly revision: number;
}

/** Associated data of a user's sealed manifest. */
export interface ManifestAad {
  readonly userId: string;
  readonly seq: number;
}

type Kind = (typeof BLOB_KIND)[keyof typeof BLOB_KIND];

/** A JSON string literal, as RFC 8785 writes it; refuses lone surrogates. */
export function jcsString(value: string): string {
  if (typeof value !== "string" || !value.isWellFormed()) {
    throw new KeywardenError("ERR_CANONICAL_INVALID_VALUE", "context string is not well-formed");
  }
  return JSON.stringify(value);
}

function jcsInteger(value: number): string {
  if (!Number.isSafeInteger(value)) {
    throw new KeywardenError("ERR_CANONICAL_INVALID_VALUE", "context number is not a safe integer");
  }
  return String(value);
}

/**
 * The exact context bytes authenticated with a blob of `kind` (see docs/vault-format.md §3): the
 * header, then the RFC 8785 canonical JSON of the context. Written out directly for speed (keys
 * already in JCS order); test/vault/format/format.seal.test.ts checks it against `canonicalize`.
 */
export function associatedData(kind: Kind, context: CredentialAad | ManifestAad): Uint8Array {
  return encodeAad(kind, context);
}

/**
 * {@link associatedData} in memory of its own (the seal/open cache, {@link rememberedAad}, keeps
 * these buffers: a cached slice of Node's shared pool would pin its 8 KiB chunk).
 */
function encodeAad(kind: Kind, context: CredentialAad | ManifestAad): Buffer {
  const json =
    kind === BLOB_KIND.credential
      ? `{"credentialId":${jcsString((context as CredentialAad).credentialId)},"exchange":${jcsString(
          (context as CredentialAad).exchange,
        )},"format":"keywarden.vault.credential","revision":${jcsInteger(
          (context as CredentialAad).revision,
        )},"userId":${jcsString(context.userId)},"v":${FORMAT_VERSION}}`
      : `{"format":"keywarden.vault.manifest","seq":${jcsInteger((context as ManifestAad).seq)},"userId":${jcsString(
          context.userId,
        )},"v":${FORMAT_VERSION}}`;
  const aad = Buffer.allocUnsafeSlow(HEADER_LENGTH + Buffer.byteLength(json));
  aad[0] = MAGIC_0;
  aad[1] = MAGIC_1;
  aad[2] = FORMAT_VERSION;
  aad[3] = kind;
  aad.write(json, HEADER_LENGTH, "utf8");
  return aad;
}

/** Most contexts whose associated data seal and open remember (both kinds together). */
const AAD_CACHE_LIMIT = 1024;

interface CachedAad<K> {
  readonly key: K;
  readonly aad: Uint8Array;
}

/** userId -> credentialId -> (exchange, revision) and its bytes; userId -> (seq) and its bytes. */
const credentialAads = new Map<string, Map<string, CachedAad<[string, number]>>>();
const manifestAads = new Map<string, CachedAad<number>>();
let cachedAads = 0;

/**
 * {@link associatedData} for seal and open, remembered per context (issue 21): the bytes are
 * public (the context itself), are only read by one cipher call and never handed out, and a
 * repeated open of the same credential re-encoded them every time. Looked up by the context's
 * own strings (no lookup key to build); a hit needs every field strictly equal to one that was
 * encoded, so a context that would be refused (a lone surrogate, an unsafe revision) is refused
 * before it can be stored. At most {@link AAD_CACHE_LIMIT} contexts; emptied when full.
 */
function rememberedAad(kind: Kind, context: CredentialAad | ManifestAad): Uint8Array {
  const userId = context.userId;
  if (kind === BLOB_KIND.credential) {
    const { credentialId, exchange, revision } = context as CredentialAad;
    const hit = credentialAads.get(userId)?.get(credentialId);
    if (hit !== undefined && hit.key[0] === exchange && hit.key[1] === revision) return hit.aad;
    const aad = encodeAad(kind, context);
    if (typeof userId !== "string" || typeof credentialId !== "string") return aad;
    let byCredential = credentialAads.get(userId);
    if (byCredential === undefined) {
      byCredential = new Map();
      credentialAads.set(userId, byCredential);
    }
    if (!byCredential.has(credentialId)) countAad();
    byCredential.set(credentialId, { key: [exchange, revision], aad });
    return aad;
  }
  const seq = (context as ManifestAad).seq;
  const hit = manifestAads.get(userId);
  if (hit !== undefined && hit.key === seq) return hit.aad;
  const aad = encodeAad(kind, context);
  if (typeof userId !== "string") return aad;
  if (hit === undefined) countAad();
  manifestAads.set(userId, { key: seq, aad });
  return aad;
}

function countAad(): void {
  if (++cachedAads > AAD_CACHE_LIMIT) {
    credentialAads.clear();
    manifestAads.clear();
    cachedAads = 1;
  }
}

/** @internal A plain Uint8Array over a Buffer's memory, without copying. */
export function plainView(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function assertKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "data key must be 32 bytes");
  }
}

/**
 * Seals `plaintext` under `key` (32 bytes) with a fresh random 96-bit IV.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a wrong key length.
 */
export function sealBlob(
  key: Uint8Array,
  kind: Kind,
  context: CredentialAad | ManifestAad,
  plaintext: Uint8Array,
): Uint8Array {
  assertKey(key);
  const aad = rememberedAad(kind, context);
  const out = new Uint8Array(MIN_BLOB_LENGTH + plaintext.length);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = FORMAT_VERSION;
  out[3] = kind;
  // The IV is drawn straight into the blob (no 12-byte buffer of its own to allocate and copy,
  // issue 21); GCM's default tag length is the format's 16 bytes.
  const iv = randomFillSync(out.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH));
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const fin = cipher.final();
  out.set(body, HEADER_LENGTH + IV_LENGTH);
  out.set(fin, HEADER_LENGTH + IV_LENGTH + body.length);
  out.set(cipher.getAuthTag(), out.length - TAG_LENGTH);
  return out;
}

/** The one error every failed open throws: it does not say which check failed. */
export function decryptFailed(): KeywardenError {
  return new KeywardenError("ERR_VAULT_DECRYPT_FAILED", DECRYPT_FAILED_MESSAGE);
}

/**
 * Opens a blob sealed by {@link sealBlob}. The returned buffer is owned by the caller, who must
 * zero it after use.
 *
 * @throws {KeywardenError} `ERR_VAULT_DECRYPT_FAILED` (fixed message) for every failure: wrong
 * header, truncation, tampering, wrong key or wrong context.
 */
export function openBlob(
  key: Uint8Array,
  kind: Kind,
  context: CredentialAad | ManifestAad,
  blob: Uint8Array,
): Uint8Array {
  assertKey(key);
  /* Precondition: a blob with a wrong header or length is refused before any decryption. */
  if (
    !(blob instanceof Uint8Array) ||
    blob.length < MIN_BLOB_LENGTH ||
    blob.length > MAX_BLOB_LENGTH ||
    blob[0] !== MAGIC_0 ||
    blob[1] !== MAGIC_1 ||
    blob[2] !== FORMAT_VERSION ||
    blob[3] !== kind
  ) {
    throw decryptFailed();
  }
  let aad: Uint8Array;
  try {
    aad = rememberedAad(kind, context);
  } catch {
    throw decryptFailed();
  }
  const iv = blob.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH);
  const tag = blob.subarray(blob.length - TAG_LENGTH);
  const body = blob.subarray(HEADER_LENGTH + IV_LENGTH, blob.length - TAG_LENGTH);
  let out: Uint8Array | undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    // update() returns a buffer of its own (not a slice of Node's pool): it is handed to the
    // caller as a plain Uint8Array over the same memory (Buffer's slice() would not copy).
    out = plainView(decipher.update(body));
    decipher.final();
    return out;
  } catch {
    /* Postcondition: no byte of an unauthenticated plaintext survives a failed open. */
    out?.fill(0);
    throw decryptFailed();
  }
}
