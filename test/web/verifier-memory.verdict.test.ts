/**
 * The verifier page's main verdict with what the browser remembers (web/verifier/src/memory.ts):
 * a fork or shrink against an earlier receipt fails a passing verdict; a failing verdict keeps its
 * more precise failure; any other memory finding changes nothing.
 */
import { describe, expect, it } from "vitest";
import type { Verdict } from "../../web/verifier/src/engine.js";
import { VERDICT_TEXT } from "../../web/verifier/src/explain.js";
import { verdictWithMemory } from "../../web/verifier/src/memory.js";

const PASSING: Verdict[] = ["valid", "valid-prefix", "valid-unanchored", "not-checked"];
const FAILING: Verdict[] = [
  "broken",
  "truncated",
  "rewritten",
  "forked",
  "bad-evidence",
  "not-export",
  "bad-key",
];

describe("verifier page: the verdict takes the remembered heads state into account", () => {
  it("a fork or shrink turns every passing verdict into inconsistent-with-memory", () => {
    for (const v of PASSING)
      for (const m of ["fork", "shrink"])
        expect(verdictWithMemory(v, m)).toBe("inconsistent-with-memory");
  });

  it("a failing verdict stays as it is, and other memory findings change nothing", () => {
    for (const v of FAILING)
      for (const m of ["fork", "shrink"]) expect(verdictWithMemory(v, m)).toBe(v);
    for (const v of [...PASSING, ...FAILING])
      for (const m of ["first", "consistent", "off", "reset", undefined])
        expect(verdictWithMemory(v, m)).toBe(v);
  });

  it("the failing verdict's wording fits both a fork and a shrink", () => {
    const t = VERDICT_TEXT["inconsistent-with-memory"];
    expect(t.title).toBe("Not consistent with what this browser saw before");
    expect(t.body).toContain("(a fork)");
    expect(t.body).toContain("(a shrink)");
  });
});
