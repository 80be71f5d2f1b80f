/**
 * A one-pass check that a text is RFC 8785 canonical JSON, without building the value.
 *
 * {@link canonicalMembers} accepts exactly the texts `parseCanonical` (canonical.ts) accepts,
 * which is `canonicalize(JSON.parse(text)) === text`: no whitespace; strings written as
 * `JSON.stringify` writes a well-formed string (only `"`, `\` and U+0000..U+001F escaped, with
 * `\b \t \n \f \r` or lowercase `\u00xx`; no lone surrogate, raw or escaped); numbers written as
 * ECMAScript `Number::toString` writes them, finite, integers safe; object members in strictly
 * increasing UTF-16 code unit order of their decoded keys (so no duplicates); containers nested
 * less than `MAX_DEPTH` deep. The strict reference stays in canonical.ts; a differential property
 * test holds the two equal on generated and mutated texts.
 *
 * @packageDocumentation
 */
import { MAX_DEPTH } from "./json-value.js";

/** The text being scanned and the position of the next character (module state: no closures). */
let s = "";
let at = 0;

/**
 * The number of members of the root object when `text` is canonical JSON whose root is an
 * object; `-2` when it is canonical JSON of another kind; `-1` when it is not canonical JSON.
 *
 * @example
 * ```ts
 * canonicalMembers('{"a":1,"b":[true]}'); // 2
 * canonicalMembers('{"b":1,"a":2}'); // -1 (members out of order)
 * ```
 * @throws never.
 */
export function canonicalMembers(text: string): number {
  if (typeof text !== "string") return -1;
  s = text;
  at = 0;
  let result: number;
  if (text.charCodeAt(0) === 0x7b) {
    result = object(0);
  } else result = value(0) ? -2 : -1;
  if (at !== text.length) result = -1;
  s = "";
  return result;
}

/**
 * Where the canonical JSON value that starts at `text[from]` ends (the index after its last
 * character), scanned as a value nested `depth` containers deep; `-1` when no canonical value
 * starts there. `canonicalMembers('{"k":' + v + "}") === 1` exactly when
 * `canonicalValueEnd(text, 5, 1)` is the index of the final `}`.
 *
 * @example
 * ```ts
 * canonicalValueEnd('{"salt":"00","value":[1,2]}', 21, 1); // 26
 * ```
 * @throws never.
 */
export function canonicalValueEnd(text: string, from: number, depth: number): number {
  if (typeof text !== "string") return -1;
  s = text;
  at = from;
  const end = value(depth) ? at : -1;
  s = "";
  return end;
}

/** Scans one value at `depth` (the root is depth 0); false when it is not canonical. */
function value(depth: number): boolean {
  const c = s.charCodeAt(at);
  if (c === 0x22) return string() >= 0;
  if (c === 0x7b) return object(depth) >= 0;
  if (c === 0x5b) return array(depth);
  if (c === 0x74) return literal("true");
  if (c === 0x66) return literal("false");
  if (c === 0x6e) return literal("null");
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number();
  return false;
}

function literal(word: string): boolean {
  if (!s.startsWith(word, at)) return false;
  at += word.length;
  return true;
}

/** An object at `s[at] === "{"`: its member count, or -1. */
function object(depth: number): number {
  if (depth >= MAX_DEPTH) return -1;
  at++;
  if (s.charCodeAt(at) === 0x7d) {
    at++;
    return 0;
  }
  let members = 0;
  let prevStart = -1;
  let prevEnd = -1;
  let prevEscaped = false;
  for (;;) {
    if (s.charCodeAt(at) !== 0x22) return -1;
    const start = at + 1;
    const escaped = string();
    if (escaped < 0) return -1;
    const end = at - 1;
    if (prevStart >= 0 && !keyAfter(prevStart, prevEnd, prevEscaped, start, end, escaped === 1))
      return -1;
    prevStart = start;
    prevEnd = end;
    prevEscaped = escaped === 1;
    if (s.charCodeAt(at) !== 0x3a) return -1;
    at++;
    if (!value(depth + 1)) return -1;
    members++;
    const c = s.charCodeAt(at++);
    if (c === 0x7d) return members;
    if (c !== 0x2c) return -1;
  }
}

/** True when the key at `[b, bEnd)` sorts strictly after the key at `[a, aEnd)` (UTF-16 order). */
function keyAfter(
  a: number,
  aEnd: number,
  aEscaped: boolean,
  b: number,
  bEnd: number,
  bEscaped: boolean,
): boolean {
  if (aEscaped || bEscaped) {
    // Rare: compare the decoded keys (both already proven canonical string text).
    const ka = JSON.parse(s.slice(a - 1, aEnd + 1)) as string;
    const kb = JSON.parse(s.slice(b - 1, bEnd + 1)) as string;
    return ka < kb;
  }
  // Unescaped key text is its code units verbatim, so compare the ranges in place.
  const n = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < n; i++) {
    const x = s.charCodeAt(a + i);
    const y = s.charCodeAt(b + i);
    if (x !== y) return x < y;
  }
  return aEnd - a < bEnd - b;
}

function array(depth: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  at++;
  if (s.charCodeAt(at) === 0x5d) {
    at++;
    return true;
  }
  for (;;) {
    if (!value(depth + 1)) return false;
    const c = s.charCodeAt(at++);
    if (c === 0x5d) return true;
    if (c !== 0x2c) return false;
  }
}

/** `\b \t \n \f \r`: the control characters JSON.stringify writes with a short escape. */
const SHORT_ESCAPE = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/**
 * A string at `s[at] === '"'`, left with `at` after its closing quote: 0 when it holds no
 * escape, 1 when it does, -1 when it is not the `JSON.stringify` text of a well-formed string.
 */
function string(): number {
  at++;
  let escaped = 0;
  const n = s.length;
  while (at < n) {
    const c = s.charCodeAt(at);
    // Most characters: printable ASCII other than '"' and '\', or BMP text outside the surrogates.
    if ((c > 0x22 && c < 0x5c) || (c > 0x5c && c < 0xd800)) {
      at++;
      continue;
    }
    if (c === 0x22) {
      at++;
      return escaped;
    }
    if (c < 0x20) return -1;
    if (c === 0x5c) {
      escaped = 1;
      const e = s.charCodeAt(at + 1);
      if (e === 0x22 || e === 0x5c || e === 0x62 || e === 0x74 || e === 0x6e || e === 0x66) at += 2;
      else if (e === 0x72) at += 2;
      else if (e === 0x75) {
        // Only U+0000..U+001F without a short form, as \u00 and two lowercase hex digits.
        if (s.charCodeAt(at + 2) !== 0x30 || s.charCodeAt(at + 3) !== 0x30) return -1;
        const hi = s.charCodeAt(at + 4);
        const lo = s.charCodeAt(at + 5);
        if (hi !== 0x30 && hi !== 0x31) return -1;
        const low =
          lo >= 0x30 && lo <= 0x39 ? lo - 0x30 : lo >= 0x61 && lo <= 0x66 ? lo - 0x57 : -1;
        if (low < 0 || SHORT_ESCAPE.has((hi - 0x30) * 16 + low)) return -1;
        at += 6;
      } else return -1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A surrogate must be the high half of a pair, written raw.
      const next = s.charCodeAt(at + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return -1;
      at += 2;
    } else at++;
  }
  return -1;
}

/**
 * A number token in the JSON grammar, which must also be exactly `String(Number(token))`, finite
 * (implied: `String` of an infinity is not a number token) and, when an integer, safe.
 */
function number(): boolean {
  const start = at;
  if (s.charCodeAt(at) === 0x2d) at++;
  let c = s.charCodeAt(at);
  if (c === 0x30) at++;
  else if (c >= 0x31 && c <= 0x39) at = digitsFrom(at + 1);
  else return false;
  let plain = true;
  if (s.charCodeAt(at) === 0x2e) {
    plain = false;
    const from = at + 1;
    at = digitsFrom(from);
    if (at === from) return false;
  }
  c = s.charCodeAt(at);
  if (c === 0x65 || c === 0x45) {
    plain = false;
    at++;
    c = s.charCodeAt(at);
    if (c === 0x2b || c === 0x2d) at++;
    const from = at;
    at = digitsFrom(from);
    if (at === from) return false;
  }
  // A plain integer token of at most 15 characters is its own Number::toString, except "-0".
  if (plain && at - start <= 15)
    return !(at - start === 2 && s.charCodeAt(start) === 0x2d && s.charCodeAt(start + 1) === 0x30);
  const token = s.slice(start, at);
  const n = Number(token);
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return false;
  return String(n) === token;
}

function digitsFrom(i: number): number {
  let j = i;
  for (;;) {
    const c = s.charCodeAt(j);
    if (!(c >= 0x30 && c <= 0x39)) return j; // NaN past the end stops too
    j++;
  }
}
