import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  type EntryPrefixCache,
  encodeNewEntry,
  encodeNewLeaf,
} from "../../../src/audit/core/entry.js";
import type { AuditActor, AuditEntry } from "../../../src/audit/index.js";
import { canonicalize } from "../../../src/canonical.js";

const hexHash = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString("hex"));
const userId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,12}$/);
const actorArb: fc.Arbitrary<AuditActor> = fc
  .record({
    kind: fc.constantFrom("session" as const, "grant" as const, "host" as const),
    userId,
    id: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constant('q"\\é😀')),
  })
  .map((a) => Object.freeze(a));
/** A few actors, chains and actions shared by many entries, so the cache is hit and missed. */
const scenario = fc.record({
  actors: fc.array(actorArb, { minLength: 1, maxLength: 3 }),
  chains: fc.array(
    fc.oneof(
      fc.constant("operator"),
      userId.map((u) => `user:${u}`),
      fc.constant("user:"), // invalid
    ),
    { minLength: 1, maxLength: 3 },
  ),
  actions: fc.array(
    fc.constantFrom("order.placed", "key.onboarded", "vault.grant.used", "Bad.Action", "x"),
    { minLength: 1, maxLength: 3 },
  ),
  entries: fc.array(
    fc.record({
      actor: fc.nat(),
      chain: fc.nat(),
      action: fc.nat(),
      seq: fc.oneof(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.constant(-1), fc.constant(1.5)),
      ts: fc.oneof(
        fc
          .date({ min: new Date("2000-01-01Z"), max: new Date("2100-01-01Z"), noInvalidDate: true })
          .map((d) => d.toISOString()),
        fc.constant("2026-02-30T00:00:00.000Z"),
        fc.constant("2026-12-07T13:00:00.000Z"),
      ),
      payloadCommitment: hexHash,
      prevHash: hexHash,
    }),
    { minLength: 1, maxLength: 30 },
  ),
});

function outcome(f: () => string): string {
  try {
    return `ok ${f()}`;
  } catch (err) {
    return `error ${(err as { code?: string }).code} ${(err as Error).message}`;
  }
}

describe("encodeNewLeaf (the append path's cached entry encoding)", () => {
  test.prop([scenario], { numRuns: 400 })(
    "returns 0x00 and exactly encodeNewEntry's text, or its error, with or without a cached prefix",
    (s) => {
      const cache: EntryPrefixCache = new WeakMap();
      for (const e of s.entries) {
        const entry = {
          v: 1,
          chainId: s.chains[e.chain % s.chains.length],
          seq: e.seq,
          ts: e.ts,
          actor: s.actors[e.actor % s.actors.length],
          action: s.actions[e.action % s.actions.length],
          payloadCommitment: e.payloadCommitment,
          prevHash: e.prevHash,
        } as AuditEntry;
        const expected = outcome(() => `\u0000${encodeNewEntry(entry)}`);
        expect(outcome(() => encodeNewLeaf(entry, cache))).toBe(expected);
        if (expected.startsWith("ok "))
          expect(expected.slice(3)).toBe(`\u0000${canonicalize(entry as never)}`);
      }
    },
  );

  it("checks the seq and timestamp of every entry after its prefix is cached", () => {
    const cache: EntryPrefixCache = new WeakMap();
    const actor = Object.freeze({ kind: "host", userId: "u1", id: "host:u1" } as const);
    const entry: AuditEntry = {
      v: 1,
      chainId: "user:u1",
      seq: 0,
      ts: "2026-12-07T13:00:00.000Z",
      actor,
      action: "order.placed",
      payloadCommitment: "a".repeat(64),
      prevHash: "b".repeat(64),
    };
    expect(encodeNewLeaf(entry, cache).startsWith('\u0000{"action":"order.placed"')).toBe(true);
    expect(() => encodeNewLeaf({ ...entry, seq: -1 }, cache)).toThrow("invalid seq");
    expect(() => encodeNewLeaf({ ...entry, ts: "2026-12-07T13:00:00.000" }, cache)).toThrow(
      "invalid ts",
    );
    expect(() => encodeNewLeaf({ ...entry, ts: "2026-12-32T13:00:00.000Z" }, cache)).toThrow(
      "invalid ts",
    );
  });
});
