/**
 * The salted payload commitment (format v1). The hashed entry carries only
 * `payloadCommitment = SHA-256(salt || UTF-8(JCS(payload)))` with a fresh 32-byte random salt; the
 * payload and its salt (the *opening*) are stored beside the entry. Erasing the opening removes the
 * personal data while the chain still verifies; without the salt, the commitment cannot be
 * confirmed against guessed payloads.
 *
 * @packageDocumentation
 */
import { type JsonValue, parseCanonical } from "../../canonical.js";
import { canonicalMembers, canonicalValueEnd } from "../../canonical-scan.js";
import { KeywardenError } from "../../errors.js";
import type { Sha256 } from "../primitives/index.js";
import {
  canonicalJson,
  decodeAsciiHexWithin,
  publicDigestEquals,
  toHex,
} from "../primitives/portable.js";
import type { HexHash } from "../storage/index.js";

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
/** Salts drawn per CSPRNG call. */
const SALT_POOL = 128;

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
  if (typeof saltHex !== "string" || saltHex.length !== 2 * SALT_BYTES)
    malformed("payload salt must be 32 bytes of lowercase hex");
  return openingDigest(`${OPENING_PREFIX}${saltHex}${OPENING_VALUE}${valueText}}`, sha256);
}

const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");
const ascii = new TextDecoder();
/** The current pool of salts, as bytes and as their lowercase hex (one 64-character run each). */
const saltBytesPool = new Uint8Array(SALT_BYTES * SALT_POOL);
let saltHexPool = "";
let saltsLeft = 0;

/**
 * The index in the pools of a fresh 32-byte CSPRNG salt. Salts are drawn 128 at a time: one
 * getRandomValues call and one hex encoding per pool, then each salt is a slice of it, used once.
 * (A salt is not a secret: it is stored in the opening beside the payload it blinds.)
 */
function freshSalt(): number {
  if (saltsLeft === 0) {
    globalThis.crypto.getRandomValues(saltBytesPool);
    const digits = new Uint8Array(saltBytesPool.length * 2);
    for (let i = 0; i < saltBytesPool.length; i++) {
      const b = saltBytesPool[i] as number;
      digits[2 * i] = HEX_DIGITS[b >> 4] as number;
      digits[2 * i + 1] = HEX_DIGITS[b & 15] as number;
    }
    saltHexPool = ascii.decode(digits);
    saltsLeft = SALT_POOL;
  }
  return --saltsLeft;
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
  const at = freshSalt();
  const hexAt = at * 2 * SALT_BYTES;
  const opening = `${OPENING_PREFIX}${saltHexPool.slice(hexAt, hexAt + 2 * SALT_BYTES)}${OPENING_VALUE}${valueText}}`;
  // The digest input `salt || UTF-8(value)` is built from the salt's bytes and the value text
  // directly (the opening's hex is not decoded back): the salt first, then the value encoded
  // right after it.
  const buf = scratchOf(SALT_BYTES + valueText.length * 3);
  const from = at * SALT_BYTES;
  for (let i = 0; i < SALT_BYTES; i++) buf[i] = saltBytesPool[from + i] as number;
  const { written } = encoder.encodeInto(valueText, buf.subarray(SALT_BYTES));
  return { opening, commitment: digestHex(buf.subarray(0, SALT_BYTES + written), sha256) };
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
 * True when `openingText` opens `commitment`. The opening must be the RFC 8785 canonical text of
 * `{"salt":"<64 hex>","value":…}` (format §4, §6): a matching digest alone is not enough, since an
 * operator who re-chains a log can commit to a non-canonical value text (a space, unsorted or
 * duplicate members, an escaped `/`), and that would give one log two byte strings.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` when the opening does not have that layout
 * or is not canonical JSON.
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
  // As in openingDigest: one UTF-8 encoding, the salt decoded in place in front of the value.
  const buf = scratchOf(openingText.length * 3);
  const { written } = encoder.encodeInto(openingText, buf);
  const hexSalt = decodeAsciiHexWithin(
    buf,
    OPENING_PREFIX.length,
    SALT_BYTES,
    VALUE_AT - SALT_BYTES,
  );
  if (!isCanonicalText(openingText, hexSalt)) malformed("payload opening is not canonical JSON");
  if (!hexSalt) malformed("payload salt must be 32 bytes of lowercase hex");
  return publicDigestEquals(
    digestHex(buf.subarray(VALUE_AT - SALT_BYTES, written - 1), sha256),
    commitment,
  );
}

/**
 * True when the opening `text`, whose layout is checked, is exactly the canonical JSON text of an
 * object with the two members `salt` and `value` (no duplicates, no third member): one pass over
 * the text, exactly equivalent to `parseCanonical` succeeding on an object of two members
 * (test/foundation/canonical-scan.property.test.ts holds the scanner equal to it). With a hex
 * salt, `{"salt":"<hex>","value":` is canonical as written, so only the value is scanned: it must
 * be one canonical value that ends right before the final `}`.
 */
function isCanonicalText(text: string, hexSalt: boolean): boolean {
  return hexSalt
    ? canonicalValueEnd(text, VALUE_AT, 1) === text.length - 1
    : canonicalMembers(text) === 2;
}

/**
 * `SHA-256(salt || UTF-8(value))` of an opening whose delimiters are in place.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` when the salt is not lowercase hex.
 */
function openingDigest(openingText: string, sha256: Sha256): HexHash {
  // One UTF-8 encoding of the whole opening. Its first VALUE_AT characters are ASCII exactly when
  // the salt is hex (the delimiters are in place), and then characters and bytes line up: the
  // salt's hex is at bytes [9, 73) and the value at [83, written - 1). The salt is decoded in
  // place into the 32 bytes right before the value, so `salt || value` is one contiguous range.
  const buf = scratchOf(openingText.length * 3);
  const { written } = encoder.encodeInto(openingText, buf);
  if (!decodeAsciiHexWithin(buf, OPENING_PREFIX.length, SALT_BYTES, VALUE_AT - SALT_BYTES))
    malformed("payload salt must be 32 bytes of lowercase hex");
  return digestHex(buf.subarray(VALUE_AT - SALT_BYTES, written - 1), sha256);
}
