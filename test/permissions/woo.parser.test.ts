import { describe, expect, it } from "vitest";
import { woo } from "../../src/permissions/exchanges/woo.js";
import { expectFixture, loadFixtures, parseFixture } from "./support/exchange-fixtures.js";

const fixtures = loadFixtures("woo");

describe("woo parser against its fixtures", () => {
  it("has the four required cases", () => {
    const names = fixtures.map((f) => f.name);
    for (const c of ["trade-only", "withdraw", "transfer", "read-only"]) expect(names).toContain(c);
  });
  for (const f of fixtures) {
    it(`${f.name}: ${f.description}`, () => {
      expectFixture(f, parseFixture(woo, f));
    });
  }
});

describe("woo parser rules", () => {
  const sample = fixtures.find((f) => f.name === "withdraw");
  if (!sample) throw new Error("missing withdraw fixture");
  const body = sample.answers[0]?.body as { data: { rows: Record<string, unknown>[] } };

  it("Precondition: only the row of the key under test is read; none or several → malformed", () => {
    const other = woo.parse([body], { apiKey: "another-key" });
    expect(other.ok ? "accepted" : other.findings[0]?.code).toBe("MALFORMED_RESPONSE");
    const twice = structuredClone(body);
    twice.data.rows.push(twice.data.rows[0] as Record<string, unknown>);
    const dup = woo.parse([twice], { apiKey: "+Pxxxxxxxxxxxxxxxxxxxx==" });
    expect(dup.ok ? "accepted" : dup.findings[0]?.code).toBe("MALFORMED_RESPONSE");
  });

  it("Precondition: WOO answers are read only when success is true", () => {
    const r = woo.parse([{ ...body, success: false, code: -1002 }], {
      apiKey: "+Pxxxxxxxxxxxxxxxxxxxx==",
    });
    expect(r.ok ? "accepted" : r.findings[0]?.code).toBe("INVALID_KEY");
  });

  it("Precondition: a TRADE key's transfer capability is unknown (the transfer endpoint names no permission)", () => {
    const trade = structuredClone(body);
    (trade.data.rows[0] as { permissions: string[] }).permissions = ["TRADE"];
    const r = woo.parse([trade], { apiKey: "+Pxxxxxxxxxxxxxxxxxxxx==" });
    expect(r.ok && r.permissions.transfer).toBe("unknown");
  });

  it("plans one read with the documented maximum page size", () => {
    const steps = woo.plan({ apiKey: "k" });
    expect(steps.map((s) => s.method)).toEqual(["v3PrivateGetAccountCredentials"]);
    expect(steps[0]?.params([])).toEqual({ size: 1000 });
    expect(woo.readOnlyMethods).toEqual(["v3PrivateGetAccountCredentials"]);
  });
});
