import { describe, expect, it } from "vitest";
import { compareOrders } from "../../src/trading/reconcile.js";

describe("compareOrders", () => {
  const logged = [
    { orderId: "1", clientOrderId: "kwaaa", symbol: "BTC/USDT", seq: 1 },
    { orderId: "2", clientOrderId: "kwbbb", symbol: "BTC/USDT", seq: 3 },
  ];

  it("matches by exchange id or by keywarden's client order id, and reports both directions", () => {
    const report = compareOrders(
      [
        { id: "1", symbol: "BTC/USDT" },
        { id: "99", symbol: "BTC/USDT", clientOrderId: "manual-ui" },
      ],
      logged,
      "full",
    );
    expect(report.matched).toBe(1);
    expect(report.notInLog).toEqual([
      { orderId: "99", symbol: "BTC/USDT", clientOrderId: "manual-ui" },
    ]);
    expect(report.notOnExchange.map((o) => o.orderId)).toEqual(["2"]);
  });

  it("matches an order whose exchange id changed by its client order id", () => {
    const report = compareOrders(
      [{ id: "x1", symbol: "BTC/USDT", clientOrderId: "kwbbb" }],
      logged,
      "full",
    );
    expect(report.matched).toBe(1);
    expect(report.notInLog).toEqual([]);
  });

  it("with open-only coverage, does not call filled or canceled logged orders missing", () => {
    const report = compareOrders([], logged, "open-only");
    expect(report.notOnExchange).toEqual([]);
    expect(report.coverage).toBe("open-only");
  });
});
