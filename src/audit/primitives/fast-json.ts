/**
 * A fast RFC 8785 serializer for the values the audit log hashes. Same output as
 * `canonicalize()` from keywarden/canonical (property-tested), without per-property path strings;
 * on any value it cannot serialize it defers to `canonicalize()`, which throws the precise error.
 */
import { canonicalize } from "../../canonical.js";

const MAX_DEPTH = 64;

class NotCanonical extends Error {}

/** Strings JSON.stringify writes as `"…"` verbatim: no quote, backslash, control or surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these code points
const VERBATIM = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** The JCS string form (RFC 8785 §3.2.2.2); calling into JSON.stringify only when escaping is due. */
function quote(s: string): string {
  if (VERBATIM.test(s)) return `"${s}"`;
  if (!s.isWellFormed()) throw new NotCanonical();
  return JSON.stringify(s);
}

/** `"key":` for member names seen before: payloads repeat a small vocabulary of names. */
const memberPrefixes = new Map<string, string>();

function memberPrefix(k: string): string {
  let prefix = memberPrefixes.get(k);
  if (prefix === undefined) {
    prefix = `${quote(k)}:`;
    if (k.length <= 64 && memberPrefixes.size < 4096) memberPrefixes.set(k, prefix);
  }
  return prefix;
}

function write(v: unknown, depth: number): string {
  switch (typeof v) {
    case "string":
      return quote(v);
    case "number":
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v)))
        throw new NotCanonical();
      return String(v);
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (depth >= MAX_DEPTH) throw new NotCanonical(); // also bounds cycles
      if (Array.isArray(v)) {
        let out = "[";
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw new NotCanonical();
          out += (i ? "," : "") + write(v[i], depth + 1);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (
        (proto !== Object.prototype && proto !== null) ||
        Object.getOwnPropertySymbols(v).length > 0
      )
        throw new NotCanonical();
      const keys = sortedKeys(v);
      let out = "{";
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (i > 0) out += ",";
        out += memberPrefix(k) + write((v as Record<string, unknown>)[k], depth + 1);
      }
      return `${out}}`;
    }
    default:
      throw new NotCanonical();
  }
}

/**
 * The own enumerable keys of `o` in JCS order (UTF-16 code units, which `<` and the default sort
 * compare). Payload objects have a handful of keys, for which an insertion sort is cheapest; larger
 * objects take the O(n log n) built-in sort.
 */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > k) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/**
 * RFC 8785 canonical JSON text of `value`.
 *
 * @throws {KeywardenError} `ERR_CANONICAL_INVALID_VALUE` (from `canonicalize`) for values that are
 * not canonical JSON.
 */
export function canonicalJson(value: unknown): string {
  try {
    return write(value, 0);
  } catch (err) {
    if (!(err instanceof NotCanonical) && !(err instanceof RangeError)) throw err;
    return canonicalize(value); // throws the precise, path-naming error
  }
}
