import { describe, expect, it } from "vitest";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import { Secret } from "../../src/secret.js";

/** The sandbox option sends the permission call to the exchange's testnet (captured, never sent). */
function capturing() {
  const urls: string[] = [];
  const detect = createCcxtDetector({
    sandbox: true,
    fetchImplementation: async (url: string) => {
      urls.push(url);
      return new Response("{}", { status: 503 });
    },
  });
  return { urls, detect };
}

describe("createCcxtDetector sandbox", () => {
  it("bybit: the one permission call goes to api-testnet.bybit.com", async () => {
    const { urls, detect } = capturing();
    const r = await detect({
      exchange: "bybit",
      credentials: { apiKey: "k", secret: Secret.fromString("s") },
    });
    expect(r.ok).toBe(false); // the captured call answered 503
    expect(urls).toHaveLength(1);
    expect(urls[0]).toMatch(/^https:\/\/api-testnet\.bybit\.com\/v5\/user\/query-api/);
  });

  it("binance: the spot testnet has no sapi routes, so nothing is sent and the key is refused", async () => {
    const { urls, detect } = capturing();
    const r = await detect({
      exchange: "binance",
      credentials: { apiKey: "k", secret: Secret.fromString("s") },
    });
    expect(r.ok).toBe(false);
    expect(urls).toEqual([]);
  });
});
