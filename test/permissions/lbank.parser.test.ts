import { describe, expect, it } from "vitest";
import { loadCcxtExchange } from "../../src/ccxt-loader.js";
import { lbank } from "../../src/permissions/exchanges/lbank.js";
import { expectFixture, loadFixtures, parseFixture } from "./support/exchange-fixtures.js";

const fixtures = loadFixtures("lbank");

describe("lbank parser (unconfirmed) against its fixtures", () => {
  for (const f of fixtures) {
    it(`${f.name}: ${f.description}`, () => {
      expectFixture(f, parseFixture(lbank, f));
    });
  }
});

describe("lbank rules", () => {
  it("a withdraw-named flag set to true rejects the key (withdraw true)", () => {
    const body = {
      result: "true",
      data: { enableReading: true, enableWithdrawals: true, enableSpotAndMarginTrading: true },
      error_code: 0,
      ts: 1701234567890,
    };
    const r = lbank.parse([body], { apiKey: "k" });
    expect(r.ok && r.permissions.withdraw).toBe(true);
    expect(r.ok && r.permissions.trade).toBe("unknown");
  });

  it("Precondition: an unconfirmed parser never reports withdraw or transfer as false", () => {
    const bodies = [
      { result: "true", data: { enableWithdrawals: false, permitsUniversalTransfer: false } },
      { result: true, data: { anything: true } },
      { result: "true", data: {} },
    ];
    for (const body of bodies) {
      const r = lbank.parse([body], { apiKey: "k" });
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.permissions.withdraw).not.toBe(false);
        expect(r.permissions.transfer).not.toBe(false);
        expect(r.permissions.trade).toBe("unknown");
      }
    }
  });
  it('Precondition: LBank answers are read only when result is "true"', () => {
    const r = lbank.parse(
      [{ result: "false", error_code: 10022, data: { enableWithdrawals: false } }],
      {
        apiKey: "k",
      },
    );
    expect(r.ok ? "accepted" : r.findings[0]?.code).toBe("PERMISSION_DENIED");
    const bad = lbank.parse([{ data: {} }], { apiKey: "k" });
    expect(bad.ok ? "accepted" : bad.findings[0]?.code).toBe("MALFORMED_RESPONSE");
  });
  it("plans its one read, which ccxt maps to POST /v2/supplement/api_Restrictions.do", async () => {
    expect(lbank.plan({ apiKey: "k" }).map((s) => s.method)).toEqual([
      "spotPrivatePostSupplementApiRestrictions",
    ]);
    const Lbank = (await loadCcxtExchange("lbank")) as unknown as new (
      c: object,
    ) => { sign: (...a: unknown[]) => { url: string; method: string } };
    const signed = new Lbank({ apiKey: "k", secret: "s" }).sign(
      "supplement/api_Restrictions",
      ["spot", "private"],
      "POST",
      {},
    );
    expect(signed.method).toBe("POST");
    expect(new URL(signed.url).pathname).toBe("/v2/supplement/api_Restrictions.do");
  });
});
