import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { type CcxtInstance, loadExchangeClass, testCredentials } from "./ccxt-classes.js";
import { isCcxtError, rejection } from "./ccxt-errors.js";

interface Order {
  id: string;
  status: string;
  symbol: string;
  side: string;
  type: string;
  price?: number;
  amount: number;
  filled: number;
}
interface Balance {
  [asset: string]: unknown;
  free: Record<string, number>;
  used: Record<string, number>;
}

type Fn<R> = (...args: unknown[]) => Promise<R>;
const m = <R>(ex: CcxtInstance, name: string): Fn<R> => {
  const fn = ex[name];
  if (typeof fn !== "function") throw new Error(`no ${name}`);
  return (fn as Fn<R>).bind(ex);
};

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim.close();
});

async function trader(
  permissions: object = { read: true, trade: true },
): Promise<{ ex: CcxtInstance; apiKey: string }> {
  const c = testCredentials("binance", "o");
  sim.setKey("binance", { apiKey: c.apiKey, secret: c.secret, permissions });
  const Binance = await loadExchangeClass("binance");
  const ex = new Binance({ ...c, enableRateLimit: false, ...sim.ccxtOptions("binance") });
  return { ex, apiKey: c.apiKey };
}

describe("binance spot order flow through real ccxt", () => {
  it("loadMarkets, ticker, limit orders rest, cancel, cancel-all, market fill, balance and trades", async () => {
    const { ex, apiKey } = await trader();
    const markets = await m<Record<string, unknown>>(ex, "loadMarkets")();
    expect(Object.keys(markets)).toEqual(expect.arrayContaining(["BTC/USDT", "ETH/USDT"]));

    sim.setLastPrice("BTC/USDT", "50000");
    const ticker = await m<{ last: number }>(ex, "fetchTicker")("BTC/USDT");
    expect(ticker.last).toBe(50000);

    const limit = await m<Order>(ex, "createOrder")("BTC/USDT", "limit", "buy", 0.01, 40000);
    expect(limit).toMatchObject({
      status: "open",
      side: "buy",
      type: "limit",
      price: 40000,
      amount: 0.01,
      filled: 0,
    });
    const open = await m<Order[]>(ex, "fetchOpenOrders")("BTC/USDT");
    expect(open.map((o) => o.id)).toEqual([limit.id]);
    expect((await m<Order>(ex, "fetchOrder")(limit.id, "BTC/USDT")).status).toBe("open");

    let balance = await m<Balance>(ex, "fetchBalance")();
    expect(balance.used.USDT).toBe(400);
    expect(balance.free.USDT).toBe(99600);

    const canceled = await m<Order>(ex, "cancelOrder")(limit.id, "BTC/USDT");
    expect(canceled.status).toBe("canceled");
    expect(await m<Order[]>(ex, "fetchOpenOrders")("BTC/USDT")).toEqual([]);

    await m<Order>(ex, "createOrder")("ETH/USDT", "limit", "sell", 1, 3500);
    await m<Order>(ex, "createOrder")("ETH/USDT", "limit", "sell", 2, 3600);
    const all = await m<Order[]>(ex, "cancelAllOrders")("ETH/USDT");
    expect(all.map((o) => o.status)).toEqual(["canceled", "canceled"]);
    expect(await m<Order[]>(ex, "fetchOpenOrders")("ETH/USDT")).toEqual([]);

    const market = await m<Order>(ex, "createOrder")("BTC/USDT", "market", "buy", 0.1);
    expect(market).toMatchObject({ status: "closed", filled: 0.1 });
    balance = await m<Balance>(ex, "fetchBalance")();
    expect(balance.free.BTC).toBe(1.1);
    expect(balance.free.USDT).toBe(95000);
    expect(balance.free.ETH).toBe(10);
    expect(balance.used.ETH).toBe(0);

    const trades = await m<{ price: number; amount: number; side: string; order: string }[]>(
      ex,
      "fetchMyTrades",
    )("BTC/USDT");
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ price: 50000, amount: 0.1, side: "buy", order: market.id });

    expect(sim.requests.count({ apiKey, outcome: "auth-failed" })).toBe(0);
    expect(sim.requests.count({ apiKey, outcome: "unknown-endpoint" })).toBe(0);
    expect(sim.requests.count({ apiKey, endpoint: "POST /api/v3/order", outcome: "ok" })).toBe(4);
  });

  it("an order beyond the free balance is refused with -2010", async () => {
    const { ex } = await trader();
    await m(ex, "loadMarkets")();
    const err = await rejection(m(ex, "createOrder")("BTC/USDT", "limit", "buy", 10, 60000));
    expect(isCcxtError(err, "InsufficientFunds")).toBe(true);
  });

  it("canceling an unknown order is refused with -2011", async () => {
    const { ex } = await trader();
    await m(ex, "loadMarkets")();
    const err = await rejection(m(ex, "cancelOrder")("987654", "BTC/USDT"));
    expect(isCcxtError(err, "OrderNotFound")).toBe(true);
  });

  it("a read-only key cannot place orders", async () => {
    const { ex, apiKey } = await trader({ read: true, trade: false });
    await m(ex, "loadMarkets")();
    const err = await rejection(m(ex, "createOrder")("BTC/USDT", "limit", "buy", 0.01, 40000));
    expect(isCcxtError(err, "AuthenticationError")).toBe(true);
    expect(sim.requests.count({ apiKey, endpoint: "POST /api/v3/order" })).toBe(1);
  });

  it("a withdrawal is counted and refused, even for a withdraw-enabled key", async () => {
    const { ex, apiKey } = await trader({ read: true, trade: true, withdraw: true });
    await m(ex, "loadMarkets")();
    const err = await rejection(
      m(ex, "withdraw")("USDT", 10, "TQrZ8tKfjvXbJ6bG9bN1J3mY5cXo2d4W7z"),
    );
    expect(isCcxtError(err, "AuthenticationError")).toBe(true);
    expect(
      sim.requests.count({
        apiKey,
        endpoint: "POST /sapi/v1/capital/withdraw/apply",
        outcome: "withdraw-refused",
      }),
    ).toBe(1);
  });

  it("order requests signed with the wrong secret are rejected before touching the book", async () => {
    const c = testCredentials("binance", "b");
    sim.setKey("binance", {
      apiKey: c.apiKey,
      secret: c.secret,
      permissions: { read: true, trade: true },
    });
    const Binance = await loadExchangeClass("binance");
    const good = new Binance({ ...c, enableRateLimit: false, ...sim.ccxtOptions("binance") });
    await m(good, "loadMarkets")();
    const ex = new Binance({
      ...c,
      secret: "not-the-secret",
      enableRateLimit: false,
      ...sim.ccxtOptions("binance"),
    });
    (ex.setMarkets as (markets: unknown) => void).call(ex, good.markets);
    const err = await rejection(m(ex, "createOrder")("BTC/USDT", "limit", "buy", 0.01, 40000));
    expect(isCcxtError(err, "AuthenticationError")).toBe(true);
    expect(
      sim.requests.count({
        apiKey: c.apiKey,
        endpoint: "POST /api/v3/order",
        authFailure: "badSignature",
      }),
    ).toBe(1);
    expect(await m<Order[]>(good, "fetchOpenOrders")("BTC/USDT")).toEqual([]);
  });
});
