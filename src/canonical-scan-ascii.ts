/**
 * The canonical-JSON check of canonical-scan.ts over UTF-8 bytes, for the common case only: text
 * that is all printable ASCII with no escape in any string. It either proves a value canonical
 * or says "not proven" (`-1`), never "not canonical": on -1 the caller runs the full
 * {@link canonicalValueEnd} over the text, which decides. Reading bytes from a typed array is
 * several times faster than `charCodeAt` on the sliced and concatenated strings a store returns,
 * and the verifier encodes each opening to bytes anyway to hash it.
 *
 * For ASCII text without escapes the rules are simple: strings are runs of the bytes 0x20–0x7E
 * other than `"` and `\`; keys in strictly increasing byte order (which is UTF-16 order for ASCII,
 * so no duplicates); numbers exactly `Number::toString` of their value, finite, integers safe;
 * `true`, `false`, `null`; no whitespace; containers less than `MAX_DEPTH` deep. A differential
 * property test holds every acceptance to {@link canonicalValueEnd}.
 *
 * Pure functions of their arguments (no module state), so they stay in registers.
 *
 * @packageDocumentation
 */
import { MAX_DEPTH } from "./json-value.js";

/**
 * Where the canonical JSON value that starts at `bytes[from]` ends (the index after it), scanned
 * as a value nested `depth` containers deep, when every byte of it up to `end` is printable ASCII
 * and no string in it holds an escape; `-1` when that is not proven. `text` is the string the
 * bytes encode, with `text[i]` the character of `bytes[i]` (true for an ASCII prefix), or
 * `undefined` when the caller has only the bytes (then such a number is not proven): a number
 * that is not a short integer is checked against `String(Number(token))` from it.
 *
 * @example
 * ```ts
 * const t = '{"salt":"00","value":[1,2]}';
 * canonicalAsciiValueEnd(new TextEncoder().encode(t), 21, t.length, 1, t); // 26
 * ```
 * @throws never.
 */
export function canonicalAsciiValueEnd(
  bytes: Uint8Array,
  from: number,
  end: number,
  depth: number,
  text: string | undefined,
): number {
  if (end > bytes.length || (text !== undefined && end > text.length)) return -1;
  return value(bytes, from, end, depth, text);
}

function value(
  b: Uint8Array,
  p: number,
  end: number,
  depth: number,
  text: string | undefined,
): number {
  if (p >= end) return -1;
  const c = b[p] as number;
  if (c === 0x22) return string(b, p, end);
  if (c === 0x7b) return object(b, p, end, depth, text);
  if (c === 0x5b) return array(b, p, end, depth, text);
  if (c === 0x74)
    return p + 4 <= end && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65 ? p + 4 : -1; // true
  if (c === 0x66)
    return p + 5 <= end &&
      b[p + 1] === 0x61 &&
      b[p + 2] === 0x6c &&
      b[p + 3] === 0x73 &&
      b[p + 4] === 0x65
      ? p + 5
      : -1; // false
  if (c === 0x6e)
    return p + 4 <= end && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c ? p + 4 : -1; // null
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number(b, p, end, text);
  return -1;
}

/** A string at `b[p] === '"'` of printable ASCII without `\`: the index after its closing quote. */
function string(b: Uint8Array, p: number, end: number): number {
  for (let i = p + 1; i < end; i++) {
    const c = b[i] as number;
    if (c === 0x22) return i + 1;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
  }
  return -1;
}

function object(
  b: Uint8Array,
  p: number,
  end: number,
  depth: number,
  text: string | undefined,
): number {
  if (depth >= MAX_DEPTH) return -1;
  let i = p + 1;
  if (i < end && b[i] === 0x7d) return i + 1;
  let prevStart = -1;
  let prevEnd = -1;
  for (;;) {
    if (i >= end || b[i] !== 0x22) return -1;
    const keyEnd = string(b, i, end);
    if (keyEnd < 0) return -1;
    // Key bytes are [i + 1, keyEnd - 1): strictly after the previous key, in byte order.
    if (prevStart >= 0 && !after(b, prevStart, prevEnd, i + 1, keyEnd - 1)) return -1;
    prevStart = i + 1;
    prevEnd = keyEnd - 1;
    if (keyEnd >= end || b[keyEnd] !== 0x3a) return -1;
    i = value(b, keyEnd + 1, end, depth + 1, text);
    if (i < 0 || i >= end) return -1;
    const c = b[i++];
    if (c === 0x7d) return i;
    if (c !== 0x2c) return -1;
  }
}

/** True when bytes [x, xEnd) sort strictly after bytes [a, aEnd). */
function after(b: Uint8Array, a: number, aEnd: number, x: number, xEnd: number): boolean {
  const n = Math.min(aEnd - a, xEnd - x);
  for (let k = 0; k < n; k++) {
    const u = b[a + k] as number;
    const v = b[x + k] as number;
    if (u !== v) return u < v;
  }
  return aEnd - a < xEnd - x;
}

function array(
  b: Uint8Array,
  p: number,
  end: number,
  depth: number,
  text: string | undefined,
): number {
  if (depth >= MAX_DEPTH) return -1;
  let i = p + 1;
  if (i < end && b[i] === 0x5d) return i + 1;
  for (;;) {
    i = value(b, i, end, depth + 1, text);
    if (i < 0 || i >= end) return -1;
    const c = b[i++];
    if (c === 0x5d) return i;
    if (c !== 0x2c) return -1;
  }
}

function digitsFrom(b: Uint8Array, i: number, end: number): number {
  let j = i;
  while (j < end) {
    const c = b[j] as number;
    if (c < 0x30 || c > 0x39) break;
    j++;
  }
  return j;
}

/** A number token that is exactly `String(Number(token))`, finite and, when an integer, safe. */
function number(b: Uint8Array, p: number, end: number, text: string | undefined): number {
  let i = p;
  if (b[i] === 0x2d) i++;
  if (i >= end) return -1;
  const c = b[i] as number;
  if (c === 0x30) i++;
  else if (c >= 0x31 && c <= 0x39) i = digitsFrom(b, i + 1, end);
  else return -1;
  let plain = true;
  if (i < end && b[i] === 0x2e) {
    plain = false;
    const from = i + 1;
    i = digitsFrom(b, from, end);
    if (i === from) return -1;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    plain = false;
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    const from = i;
    i = digitsFrom(b, from, end);
    if (i === from) return -1;
  }
  // A plain integer token of at most 15 characters is its own Number::toString, except "-0".
  if (plain && i - p <= 15) return i - p === 2 && b[p] === 0x2d && b[p + 1] === 0x30 ? -1 : i;
  if (text === undefined) return -1;
  const token = text.slice(p, i);
  const n = Number(token);
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return -1;
  return String(n) === token ? i : -1;
}
