import { describe, expect, it } from "vitest";
import { canonicalBytes, canonicalize, parseCanonical, parseJson } from "../../src/canonical.js";
import {
  APPENDIX_B,
  ieee754,
  SORTING_EXAMPLE,
  TRANSFORMATION_EXAMPLE,
} from "./fixtures/rfc8785.js";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return "no error";
};

describe("RFC 8785 vectors", () => {
  // The published example contains 1E30: an integer outside ±(2^53−1), which keywarden's hashing
  // profile rejects on purpose (amounts and ids travel as strings). So the example as published is
  // refused at exactly that element, and the example without it canonicalizes byte for byte.
  it("§3.2.2 example: rejected by the hashing profile at its one unsafe integer", () => {
    expect(() => canonicalize(JSON.parse(TRANSFORMATION_EXAMPLE.input))).toThrow(
      /\$\.numbers\[1\]/,
    );
    expect(code(() => parseJson(TRANSFORMATION_EXAMPLE.input))).toBe("ERR_JSON_PARSE");
  });

  it("§3.2.2 example without 1E30 transforms to the published canonical form", () => {
    const input = TRANSFORMATION_EXAMPLE.input.replace("1E30, ", "");
    const expected = TRANSFORMATION_EXAMPLE.canonical.replace("1e+30,", "");
    expect(input).not.toBe(TRANSFORMATION_EXAMPLE.input);
    expect(canonicalize(parseJson(input))).toBe(expected);
    expect(canonicalize(JSON.parse(input))).toBe(expected);
  });

  it("§3.2.3 sorts property names by UTF-16 code units", () => {
    const out = canonicalize(parseJson(SORTING_EXAMPLE.input));
    const values = Object.values(JSON.parse(out) as Record<string, string>);
    const order = [...out.matchAll(/:"([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(SORTING_EXAMPLE.expectedValueOrder);
    expect(values).toHaveLength(7);
  });

  it.each(APPENDIX_B.filter((v) => v.safe))("Appendix B $hex → $text", ({ hex, text }) => {
    expect(canonicalize(ieee754(hex))).toBe(text);
    expect(canonicalize([ieee754(hex)])).toBe(`[${text}]`);
  });

  it.each(APPENDIX_B.filter((v) => !v.safe))(
    "Appendix B $hex is rejected by the hashing profile (non-finite or unsafe integer)",
    ({ hex }) => {
      expect(code(() => canonicalize(ieee754(hex)))).toBe("ERR_CANONICAL_INVALID_VALUE");
    },
  );

  it("emits UTF-8 bytes", () => {
    expect(Buffer.from(canonicalBytes({ e: "€" })).toString("hex")).toBe(
      Buffer.from('{"e":"€"}').toString("hex"),
    );
  });
});

describe("canonicalize rejects what has no unambiguous canonical form", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  it.each([
    ["undefined", undefined],
    ["undefined property", { a: undefined }],
    ["function", () => 1],
    ["symbol", Symbol("x")],
    ["BigInt", 1n],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["unsafe integer", 2 ** 53],
    ["Date", new Date(0)],
    ["Map", new Map()],
    ["Uint8Array", new Uint8Array(1)],
    ["class instance", new (class Foo {})()],
    ["lone high surrogate", "\ud800"],
    ["lone low surrogate in a key", { "\udc00": 1 }],
    // biome-ignore lint/suspicious/noSparseArray: the sparse array is the input under test
    ["sparse array", [1, , 3]],
    ["cycle", cycle],
    ["symbol-keyed property", { [Symbol("k")]: 1 }],
    ["nesting deeper than 64", JSON.parse("[".repeat(70) + "]".repeat(70))],
  ])("%s", (_name, value) => {
    expect(code(() => canonicalize(value))).toBe("ERR_CANONICAL_INVALID_VALUE");
  });

  it("names the path of the offending value", () => {
    expect(() => canonicalize({ a: [1, { b: undefined }] })).toThrow(/\$\.a\[1\]\.b/);
  });

  it("accepts null-prototype objects and serializes -0 as 0", () => {
    const o = Object.assign(Object.create(null), { b: -0, a: "x" });
    expect(canonicalize(o)).toBe('{"a":"x","b":0}');
  });
});

describe("parseJson (strict)", () => {
  it.each([
    ["duplicate key", '{"a":1,"a":2}'],
    ["duplicate key after escapes", '{"a":1,"\\u0061":2}'],
    ["escaped lone surrogate", '"\\ud800"'],
    ["trailing content", "{} x"],
    ["trailing comma", "[1,]"],
    ["leading zero", "01"],
    ["non-finite number", "1e400"],
    ["unsafe integer", "9007199254740993"],
    ["single quotes", "{'a':1}"],
    ["control character", '"a\u0001"'],
    ["bad escape", '"\\x41"'],
    ["unterminated", '{"a":'],
    ["empty", ""],
  ])("rejects %s", (_name, text) => {
    expect(code(() => parseJson(text))).toBe("ERR_JSON_PARSE");
  });

  it("treats a __proto__ key as data", () => {
    const v = parseJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("parses what JSON.parse parses, for valid I-JSON", () => {
    const text = '{"a":[1,2.5,-3e-7,"x\\n\\u00e9",true,false,null],"b":{"c":{}},"d":[]}';
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });
});

describe("parseCanonical", () => {
  it("returns the value of canonical text", () => {
    expect(parseCanonical('{"a":1,"b":[true]}')).toEqual({ a: 1, b: [true] });
  });
  it.each([
    ["whitespace", '{"a": 1}'],
    ["unsorted keys", '{"b":1,"a":2}'],
    ["duplicate key", '{"a":1,"a":1}'],
    ["non-canonical number", '{"a":1.0}'],
    ["non-canonical escape", '"\\u0041"'],
    ["lone surrogate", '"\\udc00"'],
    ["invalid JSON", "{"],
  ])("rejects %s", (_name, text) => {
    expect(code(() => parseCanonical(text))).toBe("ERR_JSON_PARSE");
  });
});
