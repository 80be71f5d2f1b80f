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
