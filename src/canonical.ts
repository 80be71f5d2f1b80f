/**
 * RFC 8785 JSON Canonicalization Scheme (JCS) over validated JSON values, and a strict JSON parser.
 *
 * Canonical form is what keywarden hashes and signs, so it accepts only values whose canonical
 * bytes are unambiguous: `null`, booleans, finite numbers (integers must be safe integers), strings
 * without lone surrogates, arrays and plain objects. Everything else — `undefined`, functions,
 * symbols, BigInt, NaN/±Infinity, class instances (Date, Map, Buffer, a Secret…), cycles — is
 * rejected with `ERR_CANONICAL_INVALID_VALUE` rather than silently dropped or coerced. Amounts are
 * carried as decimal strings by convention.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "./errors.js";

import { type JsonValue, MAX_DEPTH } from "./json-value.js";

export { type JsonValue, MAX_DEPTH } from "./json-value.js";

const encoder = new TextEncoder();

function invalid(path: string, why: string): never {
  throw new KeywardenError("ERR_CANONICAL_INVALID_VALUE", `cannot canonicalize ${path}: ${why}`, {
    details: { path },
  });
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serializeString(s: string, path: string): string {
  if (!s.isWellFormed()) invalid(path, "string contains a lone surrogate");
  // JSON.stringify on a well-formed string produces exactly the JCS form (RFC 8785 §3.2.2.2):
  // only '"', '\\' and U+0000..U+001F are escaped, with \b \t \n \f \r or lowercase \u00xx.
  return JSON.stringify(s);
}

function serializeNumber(n: number, path: string): string {
  if (!Number.isFinite(n)) invalid(path, "number is not finite");
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) {
    invalid(path, "integer is outside the safe range (carry large amounts as decimal strings)");
  }
  // ECMAScript Number::toString is the JCS number form (RFC 8785 §3.2.2.3); String(-0) is "0".
  return String(n);
}

function serialize(value: unknown, path: string, depth: number, seen: Set<object>): string {
  switch (typeof value) {
    case "string":
      return serializeString(value, path);
    case "number":
      return serializeNumber(value, path);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (depth >= MAX_DEPTH) invalid(path, `nesting deeper than ${MAX_DEPTH}`);
      if (seen.has(value)) invalid(path, "cycle");
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) invalid(`${path}[${i}]`, "sparse array");
          parts.push(serialize(value[i], `${path}[${i}]`, depth + 1, seen));
        }
        out = `[${parts.join(",")}]`;
      } else {
        if (!isPlainObject(value)) invalid(path, "not a plain object");
        if (Object.getOwnPropertySymbols(value).length > 0) invalid(path, "symbol-keyed property");
        const keys = Object.keys(value).sort(); // UTF-16 code unit order, as RFC 8785 §3.2.3 requires
        const parts: string[] = [];
        for (const key of keys) {
          const child = `${path}.${key}`;
          parts.push(
            `${serializeString(key, child)}:${serialize((value as Record<string, unknown>)[key], child, depth + 1, seen)}`,
          );
        }
        out = `{${parts.join(",")}}`;
      }
      seen.delete(value);
      return out;
    }
    case "undefined":
      return invalid(path, "undefined");
    case "bigint":
      return invalid(path, "BigInt (carry it as a decimal string)");
    default:
      return invalid(path, typeof value);
  }
}

/**
 * Returns the RFC 8785 canonical JSON text of `value`.
 *
 * @example
 * ```ts
 * canonicalize({ b: [1, "x"], a: 1e21 }); // '{"a":1e+21,"b":[1,"x"]}'
 * ```
 * @throws {KeywardenError} `ERR_CANONICAL_INVALID_VALUE` naming the path of the first value that is
 * not valid JSON for hashing.
 */
export function canonicalize(value: unknown): string {
  return serialize(value, "$", 0, new Set());
}

/**
 * Returns the UTF-8 bytes of {@link canonicalize}(value): the exact input keywarden hashes.
 *
 * @throws {KeywardenError} `ERR_CANONICAL_INVALID_VALUE` as {@link canonicalize}.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

/**
 * Parses text that must already be in canonical form, and returns its value. Rejects anything a
 * canonicalizer would have written differently — including duplicate keys, non-canonical numbers
 * or escapes, whitespace and lone surrogates — so hashing the text and hashing the value agree.
 *
 * @throws {KeywardenError} `ERR_JSON_PARSE` when the text is not canonical JSON.
 */
export function parseCanonical(text: string): JsonValue {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    throw new KeywardenError("ERR_JSON_PARSE", "not valid JSON");
  }
  let again: string;
  try {
    again = canonicalize(value);
  } catch (err) {
    throw new KeywardenError("ERR_JSON_PARSE", "JSON value cannot be canonicalized", {
      cause: err,
    });
  }
  if (again !== text)
    throw new KeywardenError("ERR_JSON_PARSE", "JSON text is not in canonical form");
  return value;
}

export { parseJson } from "./json-parse.js";
