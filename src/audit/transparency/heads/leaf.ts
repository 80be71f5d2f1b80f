/**
 * The heads log's leaf: one published per-chain checkpoint, named by a chain tag that only holders
 * of the chain's key can compute or recognise.
 *
 * Leaf bytes, byte-exact ASCII, each line ending in U+000A:
 * ```
 * keywarden-head/v1
 * <tag: base64 of HMAC-SHA256(chainKey, "keywarden-head/v1 tag\n" || <size decimal> || "\n")>
 * <root: base64 of the chain checkpoint's 32-byte RFC 9162 root>
 * <time: the chain checkpoint's keywarden-time, POSIX seconds, decimal>
 * ```
 * The chain key is 32 bytes, `HMAC-SHA256(headsSecret, "keywarden-head/v1 chain-key\n" || origin)`
 * where `origin` is the chain's checkpoint origin; the operator derives it (so it stores no per-chain
 * key) and delivers it to the user with their first checkpoint. The tag binds the chain and the
 * size; the same chain at the same size always gets the same tag, so two roots for one size show
 * up as a repeated tag; different sizes of one chain get unlinkable tags.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { KeywardenError } from "../../../errors.js";
import type { Secret } from "../../../secret.js";
import {
  assertHash,
  assertIndex,
  bytesEqual,
  fromBase64,
  toBase64,
  utf8,
} from "../../primitives/portable.js";
import { isValidOrigin } from "../checkpoint.js";

/** HMAC-SHA256 of `message` under `key` (injectable so Node callers can use node:crypto). */
export type HmacSha256 = (key: Uint8Array, message: Uint8Array) => Uint8Array;

/** The portable HMAC-SHA256 (@noble/hashes). */
export const hmacSha256Portable: HmacSha256 = (key, message) => hmac(nobleSha256, key, message);

/** First line of every heads-log leaf. */
export const HEAD_LEAF_HEADER = "keywarden-head/v1";

/** A decoded heads-log leaf. */
export interface HeadLeaf {
  /** 32-byte chain tag for `size` (see the file header). */
  readonly tag: Uint8Array;
  /** The chain checkpoint's root hash. */
  readonly rootHash: Uint8Array;
  /** The chain checkpoint's time (POSIX seconds). */
  readonly time: number;
}

/**
 * Derives a chain's heads key from the operator's heads secret and the chain's checkpoint origin.
 *
 * @example
 * ```ts
 * const chainKey = deriveChainKey(headsSecret, "audit.example.com/keywarden/user:42");
 * // deliver toBase64(chainKey) to the user with their first checkpoint
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an invalid origin; `ERR_SECRET_WIPED` for a wiped secret.
 */
export function deriveChainKey(
  headsSecret: Secret,
  chainOrigin: string,
  mac: HmacSha256 = hmacSha256Portable,
): Uint8Array {
  if (!isValidOrigin(chainOrigin))
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid chain origin");
  return headsSecret.use((k) => {
    if (k.length < 32)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "heads secret must be ≥ 32 bytes");
    return mac(k, utf8(`${HEAD_LEAF_HEADER} chain-key\n${chainOrigin}`));
  });
}

/**
 * The chain tag of a chain at `size`.
 *
 * @example
 * ```ts
 * const tag = chainTag(chainKey, 42);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a key that is not 32 bytes or a bad size.
 */
export function chainTag(
  chainKey: Uint8Array,
  size: number,
  mac: HmacSha256 = hmacSha256Portable,
): Uint8Array {
  assertHash(chainKey, "chain key");
  assertIndex(size, "chain size");
  return mac(chainKey, utf8(`${HEAD_LEAF_HEADER} tag\n${size}\n`));
}

/**
 * Encodes a heads-log leaf for a chain checkpoint.
 *
 * @example
 * ```ts
 * const leaf = encodeHeadLeaf(chainKey, { size: cp.size, rootHash: cp.rootHash, time: cp.timestamp });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on a bad key, size, root or time.
 */
export function encodeHeadLeaf(
  chainKey: Uint8Array,
  head: { readonly size: number; readonly rootHash: Uint8Array; readonly time: number },
  mac: HmacSha256 = hmacSha256Portable,
): Uint8Array {
  const tag = chainTag(chainKey, head.size, mac);
  assertHash(head.rootHash, "chain root");
  assertIndex(head.time, "checkpoint time");
  return utf8(`${HEAD_LEAF_HEADER}\n${toBase64(tag)}\n${toBase64(head.rootHash)}\n${head.time}\n`);
}

const LEAF =
  /^keywarden-head\/v1\n([A-Za-z0-9+/]{43}=)\n([A-Za-z0-9+/]{43}=)\n(0|[1-9][0-9]{0,15})\n$/;

/**
 * Decodes a heads-log leaf (strict: exactly the encoding above, canonical base64 and decimal).
 *
 * @example
 * ```ts
 * const { tag, rootHash, time } = decodeHeadLeaf(bytes);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_PROOF_INVALID` (fixed message) when malformed.
 */
export function decodeHeadLeaf(bytes: Uint8Array | string): HeadLeaf {
  const text = typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes);
  const m = LEAF.exec(text);
  const tag = m ? fromBase64(m[1] as string) : undefined;
  const rootHash = m ? fromBase64(m[2] as string) : undefined;
  const time = m ? Number(m[3]) : Number.NaN;
  if (tag?.length !== 32 || rootHash?.length !== 32 || !Number.isSafeInteger(time)) {
    throw new KeywardenError("ERR_AUDIT_PROOF_INVALID", "heads leaf is malformed");
  }
  // Canonical: re-encoding must give the same text.
  if (toBase64(tag) !== m?.[1] || toBase64(rootHash) !== m[2]) {
    throw new KeywardenError("ERR_AUDIT_PROOF_INVALID", "heads leaf is malformed");
  }
  return { tag, rootHash, time };
}

/**
 * True when `leaf` records the chain of `chainKey` at `size` with `rootHash` (and `time`, when
 * given). Comparisons are constant-time (bytesEqual).
 *
 * @example
 * ```ts
 * if (!headLeafMatches(leaf, chainKey, cp.size, cp.rootHash)) reject();
 * ```
 * @throws never for well-formed inputs.
 */
export function headLeafMatches(
  leaf: HeadLeaf,
  chainKey: Uint8Array,
  size: number,
  rootHash: Uint8Array,
  time?: number,
): boolean {
  return (
    bytesEqual(leaf.tag, chainTag(chainKey, size)) &&
    bytesEqual(leaf.rootHash, rootHash) &&
    (time === undefined || leaf.time === time)
  );
}
