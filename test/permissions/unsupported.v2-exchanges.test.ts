import { describe, expect, it } from "vitest";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import { runDetection } from "../../src/permissions/detect.js";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { Secret } from "../../src/secret.js";

/** Exchanges added in permissions v2 without a key-permission read-back. */
const UNSUPPORTED = ["upbit", "coinex", "bitvavo", "whitebit", "phemex", "poloniex"] as const;

describe.each(UNSUPPORTED)("%s (unsupported)", (id) => {
  const spec = EXCHANGE_SPECS[id];

  it("is unsupported, plans nothing and lists no callable method", () => {
    expect(spec.status).toBe("unsupported");
    expect(spec.model.status).toBe("unsupported");
    expect(spec.model.endpoint).toBeNull();
    expect(spec.readOnlyMethods).toEqual([]);
    expect(spec.plan({ apiKey: "k" })).toEqual([]);
  });

  it("reports UNSUPPORTED without calling the exchange", async () => {
    let calls = 0;
    const result = await runDetection(id, { apiKey: "k" }, async () => {
      calls += 1;
      return { ok: true, body: {} };
    });
    expect(calls).toBe(0);
    expect(result.ok ? "accepted" : result.findings.map((f) => f.code)).toEqual(["UNSUPPORTED"]);
  });

  it("through the ccxt binding: no request leaves the process", async () => {
    let requests = 0;
    const detect = createCcxtDetector({
      fetchImplementation: async () => {
        requests += 1;
        return new Response("{}");
      },
    });
    const result = await detect({
      exchange: id,
      credentials: { apiKey: "k", secret: Secret.fromString("s") },
    });
    expect(requests).toBe(0);
    expect(result.ok ? "accepted" : result.findings[0]?.code).toBe("UNSUPPORTED");
  });

  it("every fund-moving value in the model grants withdraw or transfer", () => {
    for (const v of spec.model.values) {
      if (v.fundMovingEndpoints.length > 0) {
        expect(
          v.grants.some((g) => g === "withdraw" || g === "transfer"),
          v.value,
        ).toBe(true);
      }
      expect(v.cite.url).toMatch(/^https:\/\//);
    }
  });
});
