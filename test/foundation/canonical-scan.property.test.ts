import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { canonicalize, MAX_DEPTH, parseCanonical } from "../../src/canonical.js";
import { canonicalMembers, canonicalValueEnd } from "../../src/canonical-scan.js";
import { canonicalAsciiValueEnd } from "../../src/canonical-scan-ascii.js";

/**
 * The one-pass canonical check against the strict reference it replaces on the verifier's hot
 * path: `parseCanonical` (JSON.parse, canonicalize, compare). For every text, both must agree on
 * whether it is canonical, and on the root object's member count.
 */
function reference(text: string): number {
  let v: unknown;
  try {
    v = parseCanonical(text);
  } catch {
    return -1;
  }
  return typeof v === "object" && v !== null && !Array.isArray(v) ? Object.keys(v).length : -2;
}

const str = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom(
    "",
    "a",
    "b",
    "ab",
    "__proto__",
    "\u0000",
    "\u001f",
    "\u007f",
    "\u2028",
    "é",
    "\ud83d\ude00",
    "\\",
    '"',
    "/",
  ),
);
const num = fc.oneof(
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((n) => !Number.isInteger(n) || Number.isSafeInteger(n)),
  fc.constantFrom(0, 1e-7, 1e15, 1.25e-21, 1e-6, 0.1, 123.456, -1.5e-300, 5e-324),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    num,
    str,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(str, tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** Characters that matter to the grammar, for mutations. */
const piece = fc.oneof(
  fc.constantFrom(
    " ",
    "\n",
    ",",
    ":",
    "{",
    "}",
    "[",
    "]",
    '"',
    "\\",
    "\\/",
    "\\u0041",
    "\\u001f",
    "\\u001F",
    "\\u0008",
    "\\b",
    "\\ud800",
    "\ud800",
    "\udc00",
    "0",
    "-",
    "-0",
    ".",
    "e",
    "E",
    "+",
    "1e21",
    "9007199254740993",
    "00",
    "true",
    "nul",
    "\u0000",
    "\u007f",
    '"a":1',
    '"a":1,',
  ),
  fc.string({ unit: "binary", maxLength: 3 }),
);
const mutation = fc.record({
  kind: fc.constantFrom("insert", "delete", "replace", "swap"),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 4 }),
  text: piece,
});

function mutate(text: string, m: { kind: string; at: number; len: number; text: string }): string {
  const i = text.length === 0 ? 0 : m.at % (text.length + 1);
  switch (m.kind) {
    case "insert":
      return text.slice(0, i) + m.text + text.slice(i);
    case "delete":
      return text.slice(0, i) + text.slice(i + m.len);
    case "replace":
      return text.slice(0, i) + m.text + text.slice(i + m.len);
    default: {
      const j = (i + m.len) % (text.length + 1);
      const [a, b] = i < j ? [i, j] : [j, i];
      if (a === b || b >= text.length) return text;
      return text.slice(0, a) + text[b] + text.slice(a + 1, b) + text[a] + text.slice(b + 1);
    }
  }
}

describe("canonicalMembers agrees with parseCanonical", () => {
  test.prop([json], { numRuns: 1500 })("on canonical texts", (value) => {
    const text = canonicalize(value);
    expect(canonicalMembers(text)).toBe(reference(text));
  });

  test.prop([json, fc.array(mutation, { minLength: 1, maxLength: 3 })], { numRuns: 4000 })(
    "on mutated canonical texts",
    (value, mutations) => {
      let text = canonicalize(value);
      for (const m of mutations) text = mutate(text, m);
      expect(canonicalMembers(text)).toBe(reference(text));
    },
  );

  test.prop([json], { numRuns: 800 })("on the same values written by JSON.stringify", (value) => {
    for (const text of [JSON.stringify(value), JSON.stringify(value, null, 1)]) {
      expect(canonicalMembers(text)).toBe(reference(text));
    }
  });

  test.prop([fc.string({ unit: "binary", maxLength: 24 })], { numRuns: 2000 })(
    "on arbitrary short strings",
    (text) => {
      expect(canonicalMembers(text)).toBe(reference(text));
    },
  );

  const edges = [
    "",
    "0",
    "-0",
    "1",
    "-1",
    "01",
    "1.0",
    "1.5",
    "0.1",
    "1e21",
    "1e+21",
    "1E21",
    "1e-7",
    "1e-6",
    "0.000001",
    "123456789012345",
    "1234567890123456",
    "9007199254740991",
    "9007199254740992",
    "-9007199254740991",
    "-9007199254740992",
    "9007199254740993",
    "1e400",
    "-1e400",
    "5e-324",
    "1e-400",
    "2.5e-7",
    "100000000000000000000",
    "1e20",
    "-",
    "1.",
    ".5",
    "1e",
    "1e+",
    '""',
    '"\\u0000"',
    '"\\u001f"',
    '"\\u001F"',
    '"\\u0008"',
    '"\\b"',
    '"\\t"',
    '"\\u0009"',
    '"\\n"',
    '"\\f"',
    '"\\r"',
    '"\\/"',
    '"/"',
    '"\\u0041"',
    '"\\u007f"',
    '"\u007f"',
    '"\u2028"',
    '"\\"',
    '"\\\\"',
    '"\\""',
    '"\\x"',
    '"\ud800"',
    '"\udc00"',
    '"\ud83d\ude00"',
    '"\\ud83d\\ude00"',
    '"\ude00\ud83d"',
    '"a\u0000"',
    "true",
    "false",
    "null",
    "tru",
    "nulls",
    "[]",
    "{}",
    "[ ]",
    "{ }",
    "[1,]",
    "[,1]",
    "[1,2]",
    '{"a":1}',
    '{"a":1,}',
    '{"b":1,"a":2}',
    '{"a":1,"a":2}',
    '{"a":1,"b":2}',
    '{"":1,"a":2}',
    '{"a":1,"":2}',
    '{"a":{"b":1,"a":1}}',
    '{"a\\n":1,"a":2}',
    '{"a":2,"a\\n":1}',
    '{"\\n":1,"a":2}',
    '{"a":1,"\\n":2}',
    '{"\\u0000":1,"\\u0001":2}',
    '{"\\u0001":1,"\\u0000":2}',
    '{"__proto__":1}',
    '{"__proto__":1,"a":2}',
    '{"1":1,"10":2,"2":3}',
    '{"10":1,"2":2}',
    '{"2":1,"10":2}',
    '{"\ud83d\ude00":1,"\uffff":2}',
    '{"\uffff":1,"\ud83d\ude00":2}',
    '{"a":1}x',
    ' {"a":1}',
    '{"a" :1}',
    "\ufeff{}",
    '{"salt":"x","value":1}',
    '{"salt":"x","value":1,"w":2}',
    '{"salt":"x"}',
  ];
  it("on hand-picked edge cases", () => {
    for (const text of edges)
      expect([text, canonicalMembers(text)]).toEqual([text, reference(text)]);
  });

  it("at the nesting limit", () => {
    for (const d of [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1000]) {
      for (const [o, c] of [
        ["[", "]"],
        ['{"a":', "}"],
      ] as const) {
        const text = `${o.repeat(d)}1${c.repeat(d)}`;
        expect([d, canonicalMembers(text)]).toEqual([d, reference(text)]);
      }
    }
  });
});

describe("canonicalValueEnd agrees with canonicalMembers", () => {
  test.prop([json, fc.array(mutation, { maxLength: 2 })], { numRuns: 2000 })(
    "on a value inside a one-member object",
    (value, mutations) => {
      let inner = canonicalize(value);
      for (const m of mutations) inner = mutate(inner, m);
      const text = `{"k":${inner}}`;
      expect(canonicalValueEnd(text, 5, 1) === text.length - 1).toBe(canonicalMembers(text) === 1);
      expect(canonicalMembers(text) === 1).toBe(reference(text) === 1);
    },
  );

  it("stops at the end of the value and honours the depth", () => {
    expect(canonicalValueEnd('{"salt":"00","value":[1,2]}', 21, 1)).toBe(26);
    expect(canonicalValueEnd("[1] ", 0, 0)).toBe(3);
    expect(canonicalValueEnd("[1]", 0, MAX_DEPTH)).toBe(-1);
    expect(canonicalValueEnd("1", 0, MAX_DEPTH)).toBe(1);
    expect(canonicalValueEnd('"a', 0, 0)).toBe(-1);
  });
});

/**
 * The byte scanner of the verifier's fast path (canonical-scan-ascii.ts) may only accept: any
 * value it accepts, the text scanner accepts with the same end; on the common case (printable
 * ASCII, no escapes) it must accept, or the fast path would never run.
 */
describe("canonicalAsciiValueEnd accepts only what canonicalValueEnd accepts", () => {
  const utf8 = new TextEncoder();
  const check = (text: string): number => {
    const bytes = utf8.encode(text);
    const end = canonicalAsciiValueEnd(bytes, 0, bytes.length, 0, text);
    if (end >= 0) expect(end).toBe(canonicalValueEnd(text, 0, 0));
    return end;
  };
  const asciiKey = fc.string({
    unit: fc.constantFrom("a", "b", "B", "z", "0", " ", "~", "-", "_", "!"),
    maxLength: 5,
  });
  const asciiJson = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      num,
      asciiKey,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(asciiKey, tie("value"), { maxKeys: 4 }),
    ),
  })).value;

  test.prop([asciiJson], { numRuns: 1500 })("accepts canonical printable-ASCII texts", (value) => {
    const text = canonicalize(value);
    expect(check(text)).toBe(text.length);
  });

  test.prop([fc.oneof(asciiJson, json), fc.array(mutation, { minLength: 1, maxLength: 3 })], {
    numRuns: 4000,
  })("on mutated canonical texts", (value, mutations) => {
    let text = canonicalize(value);
    for (const m of mutations) text = mutate(text, m);
    check(text);
  });

  test.prop([fc.string({ unit: "binary", maxLength: 24 })], { numRuns: 2000 })(
    "on arbitrary short strings",
    (text) => {
      check(text);
    },
  );

  it("on the edge cases, and never past its end", () => {
    const cases = ["0", "-0", "01", "1.0", "1.5", "0.1", "1e21", "1e-7", "1e-6", "123456789012345"];
    cases.push("1234567890123456", "9007199254740991", "9007199254740992", "9007199254740993");
    cases.push("1e400", "5e-324", "-", "1.", ".5", "1e", "1e+", '""', '"\\n"', '"\u007f"');
    cases.push(
      "true",
      "false",
      "null",
      "tru",
      "nul",
      "fals",
      "falsy",
      "[]",
      "{}",
      "[1,]",
      '{"b":1,"a":2}',
    );
    cases.push('{"a":1,"a":2}', '{"a":1,"ab":2}', '{"ab":1,"a":2}', "é", '"é"', " 1", "1 ");
    for (const text of cases) {
      check(text);
      check(`[${text}]`);
      check(`{"a":${text}}`);
    }
    const t = '{"salt":"00","value":[1,2]}';
    const bytes = utf8.encode(t);
    expect(canonicalAsciiValueEnd(bytes, 21, t.length - 1, 1, t)).toBe(26);
    // A value cut by `end` is not proven, even when the bytes after it would complete it.
    expect(canonicalAsciiValueEnd(bytes, 21, 24, 1, t)).toBe(-1);
    expect(canonicalAsciiValueEnd(utf8.encode('{"a":[]}'), 5, 6, 1, '{"a":[]}')).toBe(-1);
    expect(canonicalAsciiValueEnd(utf8.encode('{"a":{}}'), 5, 6, 1, '{"a":{}}')).toBe(-1);
    // At the nesting limit both scanners decide alike (the fast one is not more lenient).
    for (const depth of [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1]) {
      const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
      const bytes = utf8.encode(nested);
      expect(canonicalAsciiValueEnd(bytes, 0, bytes.length, 0, nested)).toBe(
        canonicalValueEnd(nested, 0, 0),
      );
    }
  });
});
