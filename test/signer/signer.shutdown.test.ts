import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signerWorld } from "./world.js";

let w: Awaited<ReturnType<typeof signerWorld>>;
let headers: Record<string, string>;
beforeAll(async () => {
  w = await signerWorld();
  const cap = await w.enrol(w.alice);
  headers = { authorization: `Bearer ${cap.capability}`, "x-keywarden-bot": "bot-a" };
});
afterAll(async () => {
  await w?.sim.close();
});

describe("graceful shutdown", () => {
  it("finishes in-flight orders, then refuses new requests", async () => {
    const body = (id: string) =>
      JSON.stringify({
        credentialId: w.aliceBinance,
        clientOrderId: id,
        symbol: "BTC/USDT",
        type: "limit",
        side: "buy",
        amount: 0.001,
        price: 59000,
      });
    // Warm the exchange instance, so the order below is quick but still in flight at close().
    expect((await w.raw("/v1/orders", body("kwwarm000000000000000001"), headers)).status).toBe(200);
    const inFlight = Array.from({ length: 5 }, (_, i) =>
      // A connection the closing server resets before reading counts as refused (status 0): the
      // remote client retries those with the same client order id.
      w
        .raw("/v1/orders", body(`kwdrain00000000000000${String(i).padStart(3, "0")}`), headers)
        .catch(() => ({ status: 0 })),
    );
    // Close once at least one of them has reached the exchange: that order is in flight at the
    // signer, so close() must let it finish (a fixed sleep raced with the requests under load).
    const deadline = Date.now() + 10_000;
    while (w.sim.requests.count({ endpoint: "POST /api/v3/order" }) < 2) {
      if (Date.now() > deadline) throw new Error("no order reached the exchange");
      await new Promise((r) => setTimeout(r, 1));
    }
    const closing = w.server.close();
    const replies = await Promise.all(inFlight);
    await closing;
    for (const r of replies) expect([200, 503, 0]).toContain(r.status);
    expect(replies.some((r) => r.status === 200)).toBe(true);
    // Every 200 is a real order at the exchange; nothing is left half-done.
    expect(w.sim.requests.count({ endpoint: "POST /api/v3/order", outcome: "ok" })).toBe(
      1 + replies.filter((r) => r.status === 200).length,
    );
    await expect(w.raw("/healthz", undefined, {}, "GET")).rejects.toBeTruthy();
  });
});
