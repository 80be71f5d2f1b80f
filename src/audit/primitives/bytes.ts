/**
 * Byte helpers shared by the transparency code: SHA-256, strict base64 (RFC 4648 §4), UTF-8,
 * and equality of public hashes. No node-only import: this file is bundled into the offline
 * browser verifier. On Node the SHA-256 of `node:crypto` is used when present (it is several
 * times faster than the pure-JS one for the 65-byte inputs of a Merkle tree); both are SHA-256 and
 * a test proves them identical.
 *
 * @packageDocumentation
 * @internal
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { KeywardenError } from "../../errors.js";

type HashFn = (data: Uint8Array) => Uint8Array;

function nodeSha256(): HashFn | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const crypto = proc?.getBuiltinModule?.("node:crypto") as
    | { hash?: (alg: string, data: Uint8Array, enc: "latin1") => string }
    | undefined;
  const hash = crypto?.hash;
  if (typeof hash !== "function") return undefined;
  return (data) => latin1Bytes(hash("sha256", data, "latin1"));
}

/**
 * The bytes of a digest that node:crypto returned as latin1 text (one character per byte). About
 * three times cheaper than asking for a Buffer, whose external memory every call allocates and the
 * collector must later reclaim.
 */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < out.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** SHA-256 of `data` (node:crypto when available, else @noble/hashes). */
export const sha256: HashFn = nodeSha256() ?? ((data) => nobleSha256(data));

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes strict UTF-8; returns undefined on invalid input. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Concatenates byte arrays. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict standard base64: padding required, no whitespace, canonical (unused bits zero), so every
 * byte string has exactly one accepted encoding. Returns undefined when `text` is not that.
 */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return toBase64(out) === text ? out : undefined;
}

/**
 * Equality of two byte strings in time independent of where they differ (the values compared here
 * are public hashes and signatures, but the habit costs nothing).
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** A 32-byte SHA-256 value, or throws `ERR_INVALID_ARGUMENT` naming `what`. */
export function assertHash(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== 32) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", `${what} must be a 32-byte hash`);
  }
  return value;
}

/** A non-negative safe integer, or throws `ERR_INVALID_ARGUMENT` naming `what`. */
export function assertIndex(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", `${what} must be a non-negative safe integer`);
  }
  return value;
}

/** True when `text` holds an ASCII control character (below U+0020, or U+007F), newline excepted unless `allowNewline` is false. */
export function hasControlCharacter(text: string, allowNewline = true): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && !(allowNewline && c === 0x0a)) || c === 0x7f) return true;
  }
  return false;
}
