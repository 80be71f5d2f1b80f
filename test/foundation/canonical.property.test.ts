import { fc, test } from "@fast-check/vitest";
import referenceCanonicalize from "canonicalize";
import { describe, expect } from "vitest";
import { canonicalize, parseCanonical, parseJson } from "../../src/canonical.js";

/**
 * Random valid JSON values (safe numbers, well-formed strings including astral and control
 * characters) checked against the `canonicalize` package, an independent RFC 8785 implementation
 * used here as a reference only.
 */
const str = fc.string({ unit: "grapheme", maxLength: 12 });
const num = fc.oneof(
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((n) => !Number.isInteger(n) || Number.isSafeInteger(n)),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    num,
    str,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(str, tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("canonicalize against the reference implementation", () => {
  test.prop([json], { numRuns: 500 })("matches the canonicalize package", (value) => {
    expect(canonicalize(value)).toBe(referenceCanonicalize(value));
  });

  test.prop([json], { numRuns: 300 })(
    "round-trips through parseCanonical and parseJson",
    (value) => {
      const text = canonicalize(value);
      expect(canonicalize(parseCanonical(text))).toBe(text);
      expect(canonicalize(parseJson(text))).toBe(text);
      expect(canonicalize(parseJson(JSON.stringify(value, null, 2)))).toBe(text);
    },
  );
});
