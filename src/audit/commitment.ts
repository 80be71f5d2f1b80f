/**
 * The salted payload commitment (format v1). The hashed entry carries only
 * `payloadCommitment = SHA-256(salt || UTF-8(JCS(payload)))` with a fresh 32-byte random salt; the
 * payload and its salt (the *opening*) are stored beside the entry. Erasing the opening removes the
 * personal data while the chain still verifies; without the salt, the commitment cannot be
 * confirmed against guessed payloads.
 *
 * @packageDocumentation
 */
import { type JsonValue, parseCanonical } from "../canonical.js";
import { KeywardenError } from "../errors.js";
import { canonicalJson } from "./fast-json.js";
import { decodeAsciiHexWithin, decodeHexInto, publicDigestEquals, toHex } from "./hex.js";
import type { Sha256 } from "./sha256.js";
import type { HexHash } from "./store.js";

/** Salt length in bytes. */
export const SALT_BYTES = 32;

/** A payload opening: the payload and the salt of its commitment. */
export interface PayloadOpening {
  /** 64 lowercase hex characters. */
  readonly salt: string;
  readonly value: JsonValue;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);
const SALT_POOL = 32 * 128;
let pool = new Uint8Array(0);
let poolAt = SALT_POOL;

function malformed(why: string): never {
  throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", why);
}

/** The scratch buffer, at least `bytes` long. */
function scratchOf(bytes: number): Uint8Array {
  if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, 2 * scratch.length));
  return scratch;
}

function digestHex(input: Uint8Array, sha256: Sha256): HexHash {
  return sha256.bytesHex ? sha256.bytesHex(input) : toHex(sha256(input));
}

/**
 * `SHA-256(salt || UTF-8(valueText))` in lowercase hex, where `valueText` is the payload's
 * canonical JSON text.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` when `saltHex` is not 32 bytes of lowercase hex.
 *
 * @example
 * ```ts
 * payloadCommitment("11".repeat(32), '{"scope":"all"}', sha256Node);
 * ```
 */
export function payloadCommitment(saltHex: string, valueText: string, sha256: Sha256): HexHash {
  const buf = scratchOf(SALT_BYTES + valueText.length * 3);
  if (saltHex.length !== 2 * SALT_BYTES || !decodeHexInto(saltHex, buf, 0))
    malformed("payload salt must be 32 bytes of lowercase hex");
  const { written } = encoder.encodeInto(valueText, buf.subarray(SALT_BYTES));
  return digestHex(buf.subarray(0, SALT_BYTES + written), sha256);
}

/** Moves 32 fresh CSPRNG bytes into `out[0…32)`, wiping them from the pool. */
function takeSalt(out: Uint8Array): void {
  // Salts are drawn from a pooled CSPRNG buffer (one getRandomValues call per 128 salts).
  if (poolAt + SALT_BYTES > SALT_POOL) {
    pool = globalThis.crypto.getRandomValues(new Uint8Array(SALT_POOL));
    poolAt = 0;
  }
  const salt = pool.subarray(poolAt, poolAt + SALT_BYTES);
  out.set(salt);
  salt.fill(0);
  poolAt += SALT_BYTES;
}

/**
 * Commits to `value` with a fresh random salt. Returns the opening text to store beside the entry
 * and the commitment to put in it.
 *
 * @example
 * ```ts
 * const { opening, commitment } = commitPayload({ scope: "all" }, sha256Node);
 * ```
 * @throws {KeywardenError} `ERR_CANONICAL_INVALID_VALUE` when `value` is not canonical JSON.
 */
export function commitPayload(
  value: unknown,
  sha256: Sha256,
): { opening: string; commitment: HexHash } {
  const valueText = canonicalJson(value);
  const buf = scratchOf(SALT_BYTES + valueText.length * 3);
  takeSalt(buf);
  const salt = toHex(buf.subarray(0, SALT_BYTES));
  const { written } = encoder.encodeInto(valueText, buf.subarray(SALT_BYTES));
  return {
    // Joined rather than templated: one flat string to keep, not a rope of every piece.
    opening: ['{"salt":"', salt, '","value":', valueText, "}"].join(""),
    commitment: digestHex(buf.subarray(0, SALT_BYTES + written), sha256),
  };
}

const OPENING_PREFIX = '{"salt":"';
const OPENING_VALUE = '","value":';
const VALUE_AT = OPENING_PREFIX.length + 2 * SALT_BYTES + OPENING_VALUE.length;

/**
 * Parses an opening text, which must be canonical JSON `{"salt":"<64 hex>","value":…}`.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` when it is not.
 *
 * @example
 * ```ts
 * parseOpening('{"salt":"…64 hex…","value":{"scope":"all"}}').value; // { scope: "all" }
 * ```
 */
export function parseOpening(text: string): PayloadOpening {
  let v: JsonValue;
  try {
    v = parseCanonical(text);
  } catch (err) {
    throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", "payload opening is not canonical JSON", {
      cause: err,
    });
  }
  if (
    typeof v !== "object" ||
    v === null ||
    Array.isArray(v) ||
    Object.keys(v).length !== 2 ||
    typeof v.salt !== "string" ||
    !/^[0-9a-f]{64}$/.test(v.salt) ||
    !("value" in v)
  )
    throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", "payload opening has the wrong shape");
  return { salt: v.salt, value: v.value as JsonValue };
}

/**
 * True when `openingText` opens `commitment`. Only the layout is checked before hashing: when the
 * commitment matches, the value bytes are exactly the canonical text that was committed to.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` when the opening does not have the
 * `{"salt":"<64 hex>","value":…}` layout.
 *
 * @example
 * ```ts
 * if (!openingMatches(stored.payload, entry.payloadCommitment, sha256Node)) reject();
 * ```
 */
export function openingMatches(openingText: string, commitment: HexHash, sha256: Sha256): boolean {
  if (
    typeof openingText !== "string" ||
    openingText.length <= VALUE_AT + 1 ||
    !openingText.startsWith(OPENING_PREFIX) ||
    !openingText.startsWith(OPENING_VALUE, VALUE_AT - OPENING_VALUE.length) ||
    openingText.charCodeAt(openingText.length - 1) !== 0x7d
  )
    malformed("payload opening has the wrong layout");
  // One UTF-8 encoding of the whole opening. Its first VALUE_AT characters are ASCII exactly when
  // the salt is hex (the delimiters were checked above), and then characters and bytes line up:
  // the salt's hex is at bytes [9, 73) and the value at [83, written - 1). The salt is decoded in
  // place into the 32 bytes right before the value, so `salt || value` is one contiguous range.
  const buf = scratchOf(openingText.length * 3);
  const { written } = encoder.encodeInto(openingText, buf);
  if (!decodeAsciiHexWithin(buf, OPENING_PREFIX.length, SALT_BYTES, VALUE_AT - SALT_BYTES))
    malformed("payload salt must be 32 bytes of lowercase hex");
  return publicDigestEquals(
    digestHex(buf.subarray(VALUE_AT - SALT_BYTES, written - 1), sha256),
    commitment,
  );
}
