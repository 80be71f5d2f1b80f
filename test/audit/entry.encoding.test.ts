import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/audit/fast-json.js";
import {
  type AuditEntry,
  decodeEntry,
  encodeEntry,
  entryHash,
  GENESIS_PREV_HASH,
  sha256Node,
  userChainId,
} from "../../src/audit/index.js";
import { canonicalize } from "../../src/canonical.js";
import { isKeywardenError } from "../../src/errors.js";

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
  action: fc.constantFrom("order.placed", "key.rotated", "bot.custom-thing", "a.b.c"),
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
