/**
 * A fast RFC 8785 serializer for the values the audit log hashes. Same output as
 * `canonicalize()` from keywarden/canonical (property-tested), without per-property path strings;
 * on any value it cannot serialize it defers to `canonicalize()`, which throws the precise error.
 */
import { canonicalize } from "../canonical.js";

const MAX_DEPTH = 64;

class NotCanonical extends Error {}

function write(v: unknown, depth: number): string {
  switch (typeof v) {
    case "string":
      if (!v.isWellFormed()) throw new NotCanonical();
      return JSON.stringify(v); // JCS string form for well-formed strings (RFC 8785 §3.2.2.2)
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
      const keys = Object.keys(v).sort();
      let out = "{";
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (!k.isWellFormed()) throw new NotCanonical();
        out += `${i ? "," : ""}${JSON.stringify(k)}:${write((v as Record<string, unknown>)[k], depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw new NotCanonical();
  }
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
