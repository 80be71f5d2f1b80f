/**
 * The salted payload commitment (format v1). The hashed entry carries only
 * `payloadCommitment = SHA-256(salt || UTF-8(JCS(payload)))` with a fresh 32-byte random salt; the
 * payload and its salt (the *opening*) are stored beside the entry. Erasing the opening removes the
 * personal data while the chain still verifies; without the salt, the commitment cannot be
 * confirmed against guessed payloads.
 *
 * @packageDocumentation
 */
import { canonicalize, type JsonValue, parseCanonical } from "../canonical.js";
import { KeywardenError } from "../errors.js";
import { fromHex, hexEquals, toHex } from "./hex.js";
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

/** Commitment of `value` (already validated JSON) under `saltHex`. */
export function payloadCommitment(saltHex: string, valueText: string, sha256: Sha256): HexHash {
  const salt = fromHex(saltHex);
  if (!salt || salt.length !== SALT_BYTES)
    throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", "payload salt must be 32 bytes of hex");
  const text = encoder.encode(valueText);
  const input = new Uint8Array(SALT_BYTES + text.length);
  input.set(salt, 0);
  input.set(text, SALT_BYTES);
  return toHex(sha256(input));
}

/**
 * Commits to `value` with a fresh random salt. Returns the opening text to store beside the entry
 * and the commitment to put in it.
 *
 * @throws {KeywardenError} `ERR_CANONICAL_INVALID_VALUE` when `value` is not canonical JSON.
 */
export function commitPayload(
  value: unknown,
  sha256: Sha256,
): { opening: string; commitment: HexHash } {
  const valueText = canonicalize(value);
  const salt = toHex(globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES)));
  return {
    opening: `{"salt":"${salt}","value":${valueText}}`,
    commitment: payloadCommitment(salt, valueText, sha256),
  };
}

/**
 * Parses an opening text, which must be canonical JSON `{"salt":"<64 hex>","value":…}`.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` when it is not.
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
 * True when `openingText` opens `commitment`.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` when the opening is malformed.
 */
export function openingMatches(openingText: string, commitment: HexHash, sha256: Sha256): boolean {
  const { salt, value } = parseOpening(openingText);
  return hexEquals(payloadCommitment(salt, canonicalize(value), sha256), commitment);
}
