/** Lowercase hex encoding helpers (no node:buffer, so verify code stays portable). */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i] as number];
  return out;
}

const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) NIBBLE["0123456789abcdef".charCodeAt(i)] = i;
/** {@link NIBBLE} over every byte value, for byte input (no range check per byte). */
const BYTE_NIBBLE = new Int8Array(256).fill(-1);
BYTE_NIBBLE.set(NIBBLE);

/** Decodes lowercase hex into `out` at `offset`; false when `hex` is not lowercase hex of the right length. */
export function decodeHexInto(hex: string, out: Uint8Array, offset = 0): boolean {
  const n = hex.length >> 1;
  if (hex.length !== n * 2 || offset + n > out.length) return false;
  for (let i = 0; i < n; i++) {
    const a = hex.charCodeAt(2 * i);
    const b = hex.charCodeAt(2 * i + 1);
    const hi = a < 128 ? (NIBBLE[a] as number) : -1;
    const lo = b < 128 ? (NIBBLE[b] as number) : -1;
    if ((hi | lo) < 0) return false;
    out[offset + i] = (hi << 4) | lo;
  }
  return true;
}

/**
 * Decodes the `n * 2` lowercase ASCII hex bytes at `buf[hexAt…]` into the `n` bytes at
 * `buf[outAt…]`, last byte first, so it may run in place when `outAt >= hexAt + n - 1` (every
 * write lands behind the hex still to be read). False on any byte that is not lowercase hex.
 */
export function decodeAsciiHexWithin(
  buf: Uint8Array,
  hexAt: number,
  n: number,
  outAt: number,
): boolean {
  if (hexAt + 2 * n > buf.length || outAt + n > buf.length) return false;
  let bad = 0;
  for (let i = n - 1; i >= 0; i--) {
    const hi = BYTE_NIBBLE[buf[hexAt + 2 * i] as number] as number;
    const lo = BYTE_NIBBLE[buf[hexAt + 2 * i + 1] as number] as number;
    bad |= hi | lo;
    buf[outAt + i] = (hi << 4) | lo;
  }
  // A non-hex byte is -1 (all bits set), so `bad` is negative exactly when one was read.
  return bad >= 0;
}

/** Bytes of a lowercase hex string; `undefined` when it is not lowercase hex of even length. */
export function fromHex(hex: string): Uint8Array | undefined {
  const out = new Uint8Array(hex.length >> 1);
  return decodeHexInto(hex, out) ? out : undefined;
}

/** True for a 64-character lowercase hex string (a SHA-256 digest). */
export function isHexHash(value: unknown): value is string {
  if (typeof value !== "string" || value.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * Equality of two public digests, by plain string comparison. Everything the audit verifier
 * compares (entry hashes, links, payload commitments, heads) is derived from the log it is given
 * or was published, so there is no secret whose bytes a timing difference could reveal: anyone who
 * can time the comparison can compute both sides. Verifiers of RFC 9162 logs compare tree hashes
 * the same way. Comparisons that involve a secret (MACs, keys, tokens) use
 * `crypto.timingSafeEqual` instead; see docs/security.md.
 */
export function publicDigestEquals(a: string, b: string): boolean {
  return a === b;
}
