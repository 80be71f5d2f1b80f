/**
 * The verifier's fast path: accepting the entry a chain expects next without decoding it.
 *
 * When a chain verifies, almost everything in the next entry is already known: its `chainId`, its
 * `seq` (the next one), its `prevHash` (the hash just computed) and its `payloadCommitment` (the
 * digest of its opening, computed here). Its leading members (`action`, `actor`, `chainId`) are
 * usually byte for byte those of an entry accepted a moment ago. So instead of matching the whole
 * text against the entry layout and building an entry object, {@link entryTailAt} compares each
 * member with the value it must have, and the caller compares the leading members with those of
 * entries it already accepted in full. Every character is still checked: either compared with
 * characters that were (a known digest, an accepted head) or checked against its member's rules
 * (the timestamp).
 *
 * These functions only ever accept. A `false` or `undefined` says "not proven here", never "bad":
 * the verifier then takes its full path, which decides and names the failure exactly as before.
 * Pure code over strings and bytes (no node: imports): the browser verifier uses it too.
 *
 * @packageDocumentation
 */
import { canonicalValueEnd } from "../../canonical-scan.js";
import { canonicalAsciiValueEnd } from "../../canonical-scan-ascii.js";
import type { Sha256 } from "../primitives/index.js";
import { decodeAsciiHexWithin, toHex } from "../primitives/portable.js";
import { GENESIS_PREV_HASH, isIsoUtcAt } from "./entry.js";

const OPENING_PREFIX = '{"salt":"';
const OPENING_VALUE = '","value":';
const SALT_BYTES = 32;
const VALUE_AT = OPENING_PREFIX.length + 2 * SALT_BYTES + OPENING_VALUE.length;

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);

/**
 * The commitment digest (lowercase hex) of an opening text that is exactly a canonical opening:
 * `{"salt":"<64 lowercase hex>","value":<canonical JSON value>}`, nothing before or after. For
 * such a text this is the digest `openingMatches` compares; for any other text `undefined`, and
 * the caller diagnoses it with `openingMatches` (which names the problem in its own order).
 */
export function canonicalOpeningDigest(text: string, sha256: Sha256): string | undefined {
  const n = text.length;
  if (
    n <= VALUE_AT + 1 ||
    !text.startsWith(OPENING_PREFIX) ||
    !text.startsWith(OPENING_VALUE, VALUE_AT - OPENING_VALUE.length) ||
    text.charCodeAt(n - 1) !== 0x7d
  )
    return undefined;
  if (scratch.length < n * 3) scratch = new Uint8Array(Math.max(n * 3, 2 * scratch.length));
  const buf = scratch;
  const { written } = encoder.encodeInto(text, buf);
  // A hex salt makes the first VALUE_AT characters ASCII, so bytes and characters line up there;
  // it is decoded in place right before the value, so `salt || value` is one contiguous range.
  if (!decodeAsciiHexWithin(buf, OPENING_PREFIX.length, SALT_BYTES, VALUE_AT - SALT_BYTES))
    return undefined;
  // With a hex salt, `{"salt":"<hex>","value":` is canonical as written: only the value is
  // scanned, over the bytes when they are plain ASCII, else over the text.
  if (
    canonicalAsciiValueEnd(buf, VALUE_AT, written - 1, 1, text) !== written - 1 &&
    canonicalValueEnd(text, VALUE_AT, 1) !== n - 1
  )
    return undefined;
  const input = buf.subarray(VALUE_AT - SALT_BYTES, written - 1);
  return sha256.bytesHex ? sha256.bytesHex(input) : toHex(sha256(input));
}

/**
 * `"ts":"<timestamp>","v":1}` at the end of the text: the layout's timestamp rules with the
 * field ranges (month 01–12, day 01–31, hour 00–23, minute and second 00–59); the length of the
 * month is checked apart, for days 29–31.
 */
const TS_TAIL =
  /"ts":"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z","v":1\}$/y;
/** The length of `"ts":"YYYY-MM-DDTHH:MM:SS.sssZ","v":1}`. */
const TS_TAIL_LENGTH = '"ts":"'.length + 24 + '","v":1}'.length;

/**
 * The text the tail of the next entry must start with after its commitment: `","prevHash":"
 * <prev>","seq":<seq>,`. `prev` must be a lowercase hex digest and `seq` a safe integer (written
 * as `String` writes it: no leading zero), so equality proves those members' rules.
 */
export function expectedTail(prev: string, seq: number): string {
  return `","prevHash":"${prev}","seq":${seq},`;
}

/**
 * True when `body[at…]` is exactly the tail of a v1 entry: 64 characters (the commitment, checked
 * by the caller), then `tail` (see {@link expectedTail}), then a valid timestamp and `"v":1}` as
 * the last characters. The timestamp is checked as `parseEntry` checks it.
 */
export function entryTailMatches(body: string, at: number, tail: string): boolean {
  const tsAt = at + 64 + tail.length;
  if (tsAt + TS_TAIL_LENGTH !== body.length || body.substr(at + 64, tail.length) !== tail)
    return false;
  TS_TAIL.lastIndex = tsAt;
  if (!TS_TAIL.test(body)) return false;
  // Days 29–31 exist only in some months: then the full calendar check.
  const tens = body.charCodeAt(tsAt + 14);
  const ones = body.charCodeAt(tsAt + 15);
  return tens < 0x32 || (tens === 0x32 && ones !== 0x39) || isIsoUtcAt(body, tsAt + 6);
}

/** True when the 64 characters of `s` at `at` are lowercase hex. */
export function isHexHashAt(s: string, at: number): boolean {
  if (at + 64 > s.length) return false;
  for (let i = at; i < at + 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * The length of an accepted entry's head: its text up to and including `"payloadCommitment":"`
 * (the members `action`, `actor` and `chainId`). `body` must be an entry text the verifier
 * accepted in full and `seq` its seq; what follows the head has a length fixed by `seq`.
 */
export function entryHeadLength(body: string, seq: number): number {
  return body.length - (64 + expectedTail(GENESIS_PREV_HASH, seq).length + TS_TAIL_LENGTH);
}

// ---- The same checks over the UTF-8 bytes of an export line (no decoding) ----

const openingDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
let byteScratch = new Uint8Array(4096);
const openingViews = new Map<number, Uint8Array>();

/**
 * Copies `source[start, end)` to `target[at…]`: with Node's `Buffer#copy` when `source` is a
 * Buffer (no intermediate view), else through `subarray`.
 */
export function copyBytes(
  target: Uint8Array,
  at: number,
  source: Uint8Array,
  start: number,
  end: number,
): void {
  const copy = (source as { copy?: unknown }).copy;
  if (typeof copy === "function")
    (copy as (t: Uint8Array, at: number, s: number, e: number) => number).call(
      source,
      target,
      at,
      start,
      end,
    );
  else target.set(source.subarray(start, end), at);
}

/**
 * `buf.subarray(from, from + n)` for a scratch buffer, remembered by length in `views` (emptied
 * when it holds 256), so hashing from scratch allocates no view once warm.
 */
export function scratchView(
  views: Map<number, Uint8Array>,
  buf: Uint8Array,
  from: number,
  n: number,
): Uint8Array {
  let view = views.get(n);
  if (view === undefined || view.buffer !== buf.buffer) {
    if (views.size >= 256) views.clear();
    view = buf.subarray(from, from + n);
    views.set(n, view);
  }
  return view;
}

/** True when the bytes at `bytes[at…]` are the characters of `s` (ASCII: one byte each). */
export function asciiAt(bytes: Uint8Array, at: number, s: string): boolean {
  const n = s.length;
  if (at < 0 || at + n > bytes.length) return false;
  for (let i = 0; i < n; i++) if (bytes[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** True when the bytes at `bytes[at…]` equal `expected`. */
export function bytesAt(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  const n = expected.length;
  if (at < 0 || at + n > bytes.length) return false;
  for (let i = 0; i < n; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** True when the 64 bytes at `bytes[at…]` are lowercase hex. */
export function isHexHashBytesAt(bytes: Uint8Array, at: number): boolean {
  if (at + 64 > bytes.length) return false;
  for (let i = at; i < at + 64; i++) {
    const c = bytes[i] as number;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * {@link canonicalOpeningDigest} of the opening whose UTF-8 bytes are `bytes[start, end)`: the
 * same digest for exactly the same openings, `undefined` otherwise. Plain ASCII values are checked
 * over the bytes; any other value (or a number the byte scanner leaves unproven) is decoded
 * (strict UTF-8) and handed to {@link canonicalOpeningDigest}.
 */
export function canonicalOpeningBytesDigest(
  bytes: Uint8Array,
  start: number,
  end: number,
  sha256: Sha256,
): string | undefined {
  const n = end - start;
  if (n <= VALUE_AT + 1 || end > bytes.length) return undefined;
  if (byteScratch.length < n) byteScratch = new Uint8Array(Math.max(n, 2 * byteScratch.length));
  const buf = byteScratch;
  copyBytes(buf, 0, bytes, start, end);
  if (
    asciiAt(buf, 0, OPENING_PREFIX) &&
    asciiAt(buf, VALUE_AT - OPENING_VALUE.length, OPENING_VALUE) &&
    buf[n - 1] === 0x7d &&
    canonicalAsciiValueEnd(buf, VALUE_AT, n - 1, 1, undefined) === n - 1 &&
    decodeAsciiHexWithin(buf, OPENING_PREFIX.length, SALT_BYTES, VALUE_AT - SALT_BYTES)
  ) {
    const input = scratchView(
      openingViews,
      buf,
      VALUE_AT - SALT_BYTES,
      n - 1 - (VALUE_AT - SALT_BYTES),
    );
    return sha256.bytesHex ? sha256.bytesHex(input) : toHex(sha256(input));
  }
  let text: string;
  try {
    text = openingDecoder.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
  return canonicalOpeningDigest(text, sha256);
}

const TS_PREFIX = '"ts":"';
const V_SUFFIX = '","v":1}';

/** A two-digit field at `at` within [lo, hi]; -1 when not digits. */
function twoDigits(b: Uint8Array, at: number): number {
  const t = (b[at] as number) - 0x30;
  const o = (b[at + 1] as number) - 0x30;
  return t >= 0 && t <= 9 && o >= 0 && o <= 9 ? t * 10 + o : -1;
}

/** How many decimal digits `String(n)` writes for a safe integer `n >= 0`. */
export function decimalDigits(n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  return digits;
}

const PREV_KEY = '","prevHash":"';
const SEQ_KEY = '","seq":';

/** The length of `expectedTail(prev, seq)` for a 64-character `prev`. */
export function expectedTailLength(seq: number): number {
  return PREV_KEY.length + 64 + SEQ_KEY.length + decimalDigits(seq) + 1;
}

/**
 * {@link entryTailMatches} over bytes: the bytes at `bytes[at…end)` are 64 bytes (the
 * commitment, checked by the caller), then exactly `expectedTail(prev, seq)` (compared piece by
 * piece, the seq digit by digit), then `"ts":"<timestamp>","v":1}` ending at `end`, the timestamp
 * checked as `TS_TAIL` and the calendar check do.
 */
export function entryTailBytesMatch(
  bytes: Uint8Array,
  at: number,
  end: number,
  prev: string,
  seq: number,
): boolean {
  const digits = decimalDigits(seq);
  const seqAt = at + 64 + PREV_KEY.length + 64 + SEQ_KEY.length;
  const tsAt = seqAt + digits + 1;
  if (
    tsAt + TS_TAIL_LENGTH !== end ||
    !asciiAt(bytes, at + 64, PREV_KEY) ||
    !asciiAt(bytes, at + 64 + PREV_KEY.length, prev) ||
    !asciiAt(bytes, seqAt - SEQ_KEY.length, SEQ_KEY) ||
    bytes[tsAt - 1] !== 0x2c
  )
    return false;
  for (let i = seqAt + digits - 1, x = seq; i >= seqAt; i--, x = Math.floor(x / 10))
    if (bytes[i] !== 0x30 + (x % 10)) return false;
  if (!asciiAt(bytes, tsAt, TS_PREFIX) || !asciiAt(bytes, tsAt + 30, V_SUFFIX)) return false;
  const d = tsAt + TS_PREFIX.length; // YYYY-MM-DDTHH:MM:SS.sssZ
  const b = bytes;
  const year = twoDigits(b, d) >= 0 && twoDigits(b, d + 2) >= 0;
  const month = twoDigits(b, d + 5);
  const day = twoDigits(b, d + 8);
  const hour = twoDigits(b, d + 11);
  const minute = twoDigits(b, d + 14);
  const second = twoDigits(b, d + 17);
  const milli =
    twoDigits(b, d + 20) >= 0 && (b[d + 22] as number) - 0x30 <= 9 && (b[d + 22] as number) >= 0x30;
  if (
    !year ||
    b[d + 4] !== 0x2d ||
    month < 1 ||
    month > 12 ||
    b[d + 7] !== 0x2d ||
    day < 1 ||
    day > 31 ||
    b[d + 10] !== 0x54 ||
    hour < 0 ||
    hour > 23 ||
    b[d + 13] !== 0x3a ||
    minute < 0 ||
    minute > 59 ||
    b[d + 16] !== 0x3a ||
    second < 0 ||
    second > 59 ||
    b[d + 19] !== 0x2e ||
    !milli ||
    b[d + 23] !== 0x5a
  )
    return false;
  // Days 29–31 exist only in some months: then the full calendar check, on the (ASCII) text.
  if (day < 29) return true;
  let ts = "";
  for (let i = d; i < d + 24; i++) ts += String.fromCharCode(b[i] as number);
  return isIsoUtcAt(ts, 0);
}
