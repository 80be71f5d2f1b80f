import { describe, expect, it } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { grantTable } from "../../src/permissions/exchanges/model.js";
import { decide } from "../../src/permissions/policy.js";
import { loadFixtures } from "./fixtures/load.js";
import { replay } from "./fixtures/replay.js";

const specs = Object.values(EXCHANGE_SPECS);
const LOOSE = { requireIpRestriction: false, acceptReadOnly: true, rejectTransfer: false } as const;
const GRANTS = new Set(["read", "trade", "withdraw", "transfer", "none", "unknown"]);

describe.each(specs.map((s) => [s.id, s] as const))("permission model: %s", (id, spec) => {
  const m = spec.model;
  it("names its exchange and status", () => {
    expect(m.exchange).toBe(id);
    expect(m.status).toBe(spec.status);
  });
  it("every value, transfer path and rule is cited (https URL and a section)", () => {
    const cites = [
      ...m.values.map((v) => v.cite),
      ...m.transferPaths.map((t) => t.cite),
      ...m.accountRules.map((r) => r.cite),
    ];
    for (const c of cites) {
      expect(c.url).toMatch(/^https:\/\/[^\s]+$/);
      expect(c.section.trim().length).toBeGreaterThan(2);
      expect(["primary", "third-party"]).toContain(c.kind);
    }
  });
  it("grants are from the closed set; a value that moves funds off-exchange also counts as transfer", () => {
    for (const v of m.values) {
      expect(v.grants.length).toBeGreaterThan(0);
      for (const g of v.grants) expect(GRANTS.has(g)).toBe(true);
      if (v.grants.includes("withdraw")) expect(v.grants).toContain("transfer");
      if (v.grants.includes("unknown")) expect(v.note, `${v.value} needs a note`).toBeTruthy();
    }
    expect(() => grantTable(m)).not.toThrow();
  });
  it("every transfer path requires values the model lists", () => {
    const known = new Set(m.values.map((v) => v.value));
    for (const t of m.transferPaths) for (const r of t.requires) expect(known.has(r), r).toBe(true);
  });
  it("only confirmed models may accept: others list no value that is pure read/trade... or make no call", () => {
    if (spec.status === "confirmed") return;
    const fixtures = loadFixtures().filter((f) => f.exchange === id);
    for (const f of fixtures) {
      const r = replay(id, f);
      if (r.ok) expect([r.permissions.withdraw, r.permissions.transfer]).toContain("unknown");
    }
  });
});

describe("no permission value accepted by a parser lacks a citation", () => {
  it("every token in the evidence of an accepted fixture is a cited model value", () => {
    for (const f of loadFixtures()) {
      const id = f.exchange;
      if (!Object.hasOwn(EXCHANGE_SPECS, id)) continue;
      const spec = EXCHANGE_SPECS[id as keyof typeof EXCHANGE_SPECS];
      const r = replay(id, f);
      // Only answers a parser lets through (loosest policy) are in question.
      if (!r.ok || !decide(r, LOOSE).ok) continue;
      const known = new Set(spec.model.values.map((v) => v.value));
      for (const v of Object.values(r.permissions.evidence)) {
        if (!Array.isArray(v)) continue;
        for (const token of v) {
          if (/^\d{1,3}(\.\d{1,3}){3}|\*/.test(token)) continue; // IP lists
          expect(
            known.has(token) || [...known].some((k) => k.endsWith(`:${token}`) || k === token),
            `${f.file}: ${token}`,
          ).toBe(true);
        }
      }
      for (const [name, v] of Object.entries(r.permissions.evidence)) {
        if (
          typeof v === "boolean" &&
          name !== "isMaster" &&
          /^(enable|permits|is[A-Z]|can_)/.test(name)
        ) {
          expect(known.has(name), `${f.file}: ${name}`).toBe(true);
        }
      }
    }
  });
});

/**
 * Confirmed models whose citations do not yet carry verbatim quotes (re-read by another pass).
 * Keep this list small: an exchange leaves it once its quotes are in.
 */
const QUOTES_PENDING = new Set<string>([]);
/** A value a parser may accept: it grants nothing that moves funds and is not unknown. */
const mayAccept = (grants: readonly string[]) =>
  grants.every((g) => g === "read" || g === "trade" || g === "none");

describe.each(
  specs
    .filter((s) => s.status === "confirmed" && !QUOTES_PENDING.has(s.id))
    .map((s) => [s.id, s] as const),
)("verbatim quotes: %s", (id, spec) => {
  it("every value a parser may accept, and every transfer path, quotes its cited section", () => {
    const m = spec.model;
    for (const v of m.values.filter((v) => mayAccept(v.grants))) {
      expect(v.cite.quote?.trim().length ?? 0, `${id}: ${v.value}`).toBeGreaterThan(3);
    }
    for (const t of m.transferPaths) {
      expect(t.cite.quote?.trim().length ?? 0, `${id}: ${t.endpoint}`).toBeGreaterThan(3);
    }
  });
});

describe("the quote-pending list stays honest", () => {
  it("names only confirmed exchanges that still lack a quote", () => {
    for (const id of QUOTES_PENDING) {
      const spec = EXCHANGE_SPECS[id as keyof typeof EXCHANGE_SPECS];
      expect(spec?.status, id).toBe("confirmed");
      const all = [
        ...spec.model.values.map((v) => v.cite),
        ...spec.model.transferPaths.map((t) => t.cite),
      ];
      expect(
        all.some((c) => !c.quote),
        `${id} is fully quoted: drop it from QUOTES_PENDING`,
      ).toBe(true);
    }
  });
});

/**
 * Exchanges that never accept a key (unsupported / probe-only) whose every transfer path is
 * quoted from its cited section too, so the reason they refuse can be checked without re-reading.
 */
const QUOTED_NON_ACCEPTING = [
  "deribit",
  "cryptocom",
  "upbit",
  "coinex",
  "bitvavo",
  "whitebit",
  "phemex",
] as const;

describe.each(QUOTED_NON_ACCEPTING.map((id) => [id] as const))("verbatim quotes: %s", (id) => {
  const spec = EXCHANGE_SPECS[id];
  it("is an exchange that never accepts a key", () => {
    expect(spec.status).not.toBe("confirmed");
  });
  it("every transfer path quotes its cited section", () => {
    expect(spec.model.transferPaths.length).toBeGreaterThan(0);
    for (const t of spec.model.transferPaths) {
      expect(t.cite.quote?.trim().length ?? 0, `${id}: ${t.endpoint}`).toBeGreaterThan(3);
    }
  });
  it("every value that can move funds quotes its cited section", () => {
    for (const v of spec.model.values) {
      if (!v.grants.some((g) => g === "withdraw" || g === "transfer")) continue;
      expect(v.cite.quote?.trim().length ?? 0, `${id}: ${v.value}`).toBeGreaterThan(3);
    }
  });
});
