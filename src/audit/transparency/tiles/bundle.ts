/**
 * C2SP tlog-tiles entry bundles: a sequence of entries, each a big-endian uint16 length followed
 * by that many bytes. A bundle holds the entries `N·256 …` of the log, 256 when full.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";

/** Largest entry a bundle can hold (uint16 length prefix). */
export const MAX_BUNDLE_ENTRY = 0xffff;

/**
 * Encodes entries as an entry bundle.
 *
 * @example
 * ```ts
 * encodeEntryBundle([utf8("a"), utf8("bc")]); // 00 01 61 00 02 62 63
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when an entry is longer than 65535 bytes.
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const e of entries) {
    if (!(e instanceof Uint8Array) || e.length > MAX_BUNDLE_ENTRY) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "entry bundle entry must be ≤ 65535 bytes");
    }
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >>> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/**
 * Decodes an entry bundle; `expected` is the number of entries the tile's width promises.
 *
 * @example
 * ```ts
 * const entries = decodeEntryBundle(bytes, 3);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_TILE_INVALID` when the bytes are truncated, have trailing data, or hold a different count.
 */
export function decodeEntryBundle(bytes: Uint8Array, expected: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) break;
    const len = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
    if (at + 2 + len > bytes.length) break;
    out.push(bytes.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  if (at !== bytes.length || out.length !== expected) {
    throw new KeywardenError("ERR_AUDIT_TILE_INVALID", "entry bundle is malformed");
  }
  return out;
}
