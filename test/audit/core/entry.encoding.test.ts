import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { entryProblem, parseEntry } from "../../../src/audit/core/entry.js";
import {
  type AuditEntry,
  decodeEntry,
  encodeEntry,
  entryHash,
  GENESIS_PREV_HASH,
  sha256Node,
  userChainId,
} from "../../../src/audit/index.js";
import { canonicalJson } from "../../../src/audit/primitives/fast-json.js";
import { canonicalize } from "../../../src/canonical.js";
import { isKeywardenError } from "../../../src/errors.js";

const hexHash = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString("hex"));
const userId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}$/);
const entryArb: fc.Arbitrary<AuditEntry> = fc.record({
  v: fc.constant(1 as const),
  chainId: fc.oneof(
    fc.constant("operator"),
    userId.map((u) => `user:${u}`),
  ),
  seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  ts: fc
    .date({
      min: new Date("1970-01-01T00:00:00Z"),
      max: new Date("9999-12-31T23:59:59Z"),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  actor: fc.record({
    kind: fc.constantFrom(
      "session" as const,
      "grant" as const,
      "host" as const,
      "operator" as const,
    ),
    userId,
    id: fc
      .string({ minLength: 1, maxLength: 40, unit: "grapheme" })
      .filter(
        (s) =>
          s.isWellFormed() &&
          ![...s].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === "\x7f"),
      ),
  }),
  action: fc.constantFrom(
    "order.placed",
    "key.rotated",
    "bot.custom-thing",
    "a.b.c",
    `a.${"b".repeat(62)}`, // 64 characters: the longest action
  ),
  payloadCommitment: hexHash,
  prevHash: hexHash,
});

describe("entry encoding", () => {
  test.prop([entryArb])(
    "the fixed template is byte-identical to RFC 8785 canonicalize()",
    (entry) => {
      expect(encodeEntry(entry)).toBe(canonicalize(entry));
      expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    },
  );

  const base: AuditEntry = {
    v: 1,
    chainId: userChainId("u1"),
    seq: 0,
    ts: "2026-11-29T03:34:41.123Z",
    actor: { kind: "host", userId: "u1", id: "host:u1" },
    action: "order.placed",
    payloadCommitment: "ab".repeat(32),
    prevHash: GENESIS_PREV_HASH,
  };

  it("defines the genesis prevHash as 32 zero bytes", () => {
    expect(GENESIS_PREV_HASH).toBe("0".repeat(64));
  });

  it("hashes SHA-256(0x00 || UTF-8(body))", () => {
    const body = encodeEntry(base);
    const expected = sha256Node(new Uint8Array([0, ...new TextEncoder().encode(body)]));
    expect(entryHash(body, sha256Node)).toBe(Buffer.from(expected).toString("hex"));
  });

  it.each([
    ["whitespace", (b: string) => b.replace('"seq":0', '"seq": 0')],
    [
      "key order",
      (b: string) =>
        b
          .replace('{"action":"order.placed",', "{")
          .replace('"v":1}', '"v":1,"action":"order.placed"}'),
    ],
    ["duplicate key", (b: string) => b.replace('"seq":0', '"seq":1,"seq":0')],
    ["escaped ASCII", (b: string) => b.replace('"kind":"host"', '"kind":"\\u0068ost"')],
    ["number form", (b: string) => b.replace('"seq":0', '"seq":0.0')],
    ["unknown field", (b: string) => b.replace('"v":1}', '"v":1,"x":1}')],
    ["wrong version", (b: string) => b.replace('"v":1}', '"v":2}')],
    ["non-UTC ts", (b: string) => b.replace(".123Z", ".123+01:00")],
    ["impossible date", (b: string) => b.replace("2026-11-29", "2026-02-30")],
    ["negative seq", (b: string) => b.replace('"seq":0', '"seq":-1')],
    ["uppercase hex", (b: string) => b.replace("abab", "ABAB")],
    ["bad chain id", (b: string) => b.replace('"chainId":"user:u1"', '"chainId":"users:u1"')],
  ])("rejects non-canonical or invalid entry text: %s", (_name, mutate) => {
    const body = mutate(encodeEntry(base));
    expect(body).not.toBe(encodeEntry(base));
    try {
      decodeEntry(body);
      expect.unreachable();
    } catch (err) {
      expect(isKeywardenError(err, "ERR_AUDIT_INVALID_ENTRY")).toBe(true);
    }
  });
});

/** The definition parseEntry must agree with: a valid v1 entry whose text is its RFC 8785 form. */
function referenceDecode(body: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (entryProblem(value) !== undefined) return undefined;
  return canonicalize(value) === body ? value : undefined;
}

/** Text that is likely to matter at a member boundary, in an escape, a number or a date. */
const snippet = fc.constantFrom(
  '"',
  "\\",
  "\\u0041",
  "\\/",
  "\\n",
  "\\u2028",
  "\u2028",
  "\u0001",
  "\ud800",
  "\\ud800",
  "é",
  "😀",
  " ",
  ",",
  ":",
  "{",
  "}",
  "0",
  "00",
  "9",
  "-",
  ".",
  "e1",
  "A",
  "a",
  "Z",
  '","v":1}',
  '"seq":1,',
  "9007199254740993",
  "02-29",
  "02-30",
  "23:59:60",
  "T",
  "\x7f",
);

const mutation = fc.record({
  at: fc.nat(),
  cut: fc.oneof(fc.constant(0), fc.nat({ max: 6 })),
  insert: fc.oneof(snippet, fc.string({ maxLength: 3, unit: "binary" }), fc.constant("")),
});

describe("parseEntry (the verifier's fast decoder)", () => {
  test.prop([entryArb, fc.array(mutation, { minLength: 0, maxLength: 3 })], { numRuns: 3000 })(
    "accepts exactly the texts that are the canonical form of a valid entry, with the same value",
    (entry, mutations) => {
      let body = encodeEntry(entry);
      for (const m of mutations) {
        const at = m.at % (body.length + 1);
        body = body.slice(0, at) + m.insert + body.slice(at + m.cut);
      }
      const expected = referenceDecode(body);
      const got = parseEntry(body);
      if (expected === undefined) {
        expect(typeof got).toBe("string");
        expect(() => decodeEntry(body)).toThrow(
          expect.objectContaining({ code: "ERR_AUDIT_INVALID_ENTRY" }),
        );
      } else {
        expect(got).toEqual(expected);
        expect(decodeEntry(body)).toEqual(expected);
      }
    },
  );

  it.each([
    ["an escaped actor id", { id: 'a"b\\c\u2028' }],
    ["a non-BMP actor id", { id: "bot 😀" }],
    ["the largest safe seq", { seq: Number.MAX_SAFE_INTEGER }],
  ])("round-trips %s", (_name, change) => {
    const base = {
      v: 1 as const,
      chainId: "operator",
      seq: 0,
      ts: "2024-02-29T23:59:59.999Z",
      actor: { kind: "operator" as const, userId: "ops", id: "ops-1" },
      action: "key.rotated",
      payloadCommitment: "0f".repeat(32),
      prevHash: GENESIS_PREV_HASH,
    };
    const entry =
      "id" in change
        ? { ...base, actor: { ...base.actor, id: change.id as string } }
        : { ...base, ...change };
    expect(parseEntry(encodeEntry(entry))).toEqual(entry);
  });

  it("names the problem of a refused text", () => {
    const body = encodeEntry({
      v: 1,
      chainId: "operator",
      seq: 0,
      ts: "2026-11-29T03:34:41.123Z",
      actor: { kind: "operator", userId: "ops", id: "ops-1" },
      action: "key.rotated",
      payloadCommitment: "0f".repeat(32),
      prevHash: GENESIS_PREV_HASH,
    });
    expect(parseEntry(body.replace("11-29", "02-30"))).toBe("invalid ts");
    expect(parseEntry(body.replace("key.rotated", `a.${"b".repeat(63)}`))).toBe("invalid action");
    expect(parseEntry(body.replace('"seq":0', '"seq":9007199254740992'))).toBe("invalid seq");
    expect(parseEntry(body.replace('"seq":0', '"seq": 0'))).toBe("entry is not in canonical form");
    expect(parseEntry(body.slice(1))).toBe("entry is not a canonical v1 entry");
    expect(parseEntry(body.replace("ops-1", "ops\\u002d1"))).toBe("entry is not in canonical form");
  });
});

describe("fast canonical JSON for payloads", () => {
  test.prop([fc.jsonValue()])(
    "canonicalJson is byte-identical to canonicalize for every JSON value",
    (value) => {
      let expected: string | undefined;
      try {
        expected = canonicalize(value);
      } catch {
        expected = undefined;
      }
      if (expected === undefined) expect(() => canonicalJson(value)).toThrow();
      else expect(canonicalJson(value)).toBe(expected);
    },
  );

  test.prop([
    fc.oneof(
      ...[
        [2, 16],
        [17, 40],
      ].map(([minKeys = 0, maxKeys = 0]) =>
        fc.dictionary(
          fc.string({ unit: "binary", maxLength: 6 }),
          fc.oneof(fc.string({ unit: "binary" }), fc.integer(), fc.boolean(), fc.constant(null)),
          { minKeys, maxKeys },
        ),
      ),
    ),
  ])("canonicalJson orders any number of keys, with any characters, as canonicalize does", (o) => {
    let expected: string | undefined;
    try {
      expected = canonicalize(o);
    } catch {
      expected = undefined;
    }
    if (expected === undefined) expect(() => canonicalJson(o)).toThrow();
    else expect(canonicalJson(o)).toBe(expected);
  });

  it("rejects what canonicalize rejects, with its error", () => {
    for (const bad of [
      { a: undefined },
      { n: Number.NaN },
      { d: new Date(0) },
      { s: "\ud800" },
      [1n],
    ]) {
      expect(() => canonicalJson(bad)).toThrow(
        expect.objectContaining({ code: "ERR_CANONICAL_INVALID_VALUE" }),
      );
    }
  });
});
