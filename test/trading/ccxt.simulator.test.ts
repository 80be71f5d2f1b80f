import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userChainId } from "../../src/audit/core/entry.js";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { runAs } from "../../src/guard/context.js";
import type { Identity } from "../../src/guard/identity.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { ccxtExchangeFactory } from "../../src/trading/ccxt.js";
import { createTradingClient, type TradingClient } from "../../src/trading/client.js";
import { createMemoryTradingState } from "../../src/trading/state.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { canary, localKms, makeIdp } from "../vault/helpers.js";

/**
 * The trading client through REAL ccxt (binance, real HMAC signing) against the exchange simulator,
 * which verifies every signature with the test secret. Canary credentials travel the whole path.
 */
describe("trading through ccxt against the exchange simulator", () => {
  let sim: ExchangeSimulator;
  let trading: TradingClient;
  let audit: AuditLog;
  let alice: Identity;
  let cred: string;
  const apiKey = `key-${canary()}`;
  const secret = canary();

  beforeAll(async () => {
    sim = await startExchangeSimulator();
    sim.setKey("binance", { apiKey, secret, permissions: { read: true, trade: true } });
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    audit = new AuditLog({ store: createMemoryAuditStore() });
    trading = createTradingClient({
      vault,
      audit,
      state: createMemoryTradingState(),
      exchanges: ccxtExchangeFactory({ config: (ex) => ({ ...sim.ccxtOptions(ex as "binance") }) }),
      risk: { symbols: ["BTC/USDT", "ETH/USDT"], maxNotional: "5000000", priceBand: 0.1 },
    });
    alice = await idp.session("alice");
    cred = (await vault.store(alice, { exchange: "binance", credentials: { apiKey, secret } }))
      .credentialId;
  });

  afterAll(async () => {
    await sim?.close();
  });

  it("places, lists and cancels orders with really signed requests; nothing else is called", async () => {
    const h = trading.handle(cred);
    sim.requests.clear();
    const order = await runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 0.01, 59000));
    expect(order.id).toBeTruthy();
    const open = await runAs(alice, () => h.fetchOpenOrders("BTC/USDT"));
    expect(open.map((o) => o.id)).toContain(order.id);
    await runAs(alice, () => h.cancelOrder(order.id, "BTC/USDT"));
    const after = await runAs(alice, () => h.fetchOpenOrders("BTC/USDT"));
    expect(after.map((o) => o.id)).not.toContain(order.id);
    const endpoints = sim.requests.all().map((r) => `${r.endpoint} ${r.outcome}`);
    expect(endpoints.every((e) => !/withdraw|transfer/i.test(e))).toBe(true);
    expect(sim.requests.count({ outcome: "auth-failed" })).toBe(0);
    expect(sim.requests.count({ endpoint: "POST /api/v3/order" })).toBe(1);
  });

  it("market data comes from the shared credential-free instance (no signed request)", async () => {
    sim.requests.clear();
    const ticker = (await runAs(alice, () => trading.handle(cred).fetchTicker("BTC/USDT"))) as {
      last: number;
    };
    expect(ticker.last).toBeGreaterThan(0);
    expect(sim.requests.all().every((r) => r.apiKey === undefined)).toBe(true);
  });

  it("the kill switch cancels every open order through ccxt, then blocks orders", async () => {
    const h = trading.handle(cred);
    await runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 0.01, 58000));
    await runAs(alice, () => h.createOrder("ETH/USDT", "limit", "buy", 0.1, 2900));
    const report = await runAs(alice, () => trading.fireKillSwitch("alice", "max drawdown"));
    expect(report.cancels.map((c) => c.outcome)).toEqual(["canceled"]);
    const open = await runAs(alice, () => h.fetchOpenOrders());
    expect(open).toEqual([]);
    await expect(
      runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 0.01, 58000)),
    ).rejects.toMatchObject({
      code: "ERR_TRADING_KILL_SWITCH_ACTIVE",
    });
    await runAs(alice, () => trading.releaseKillSwitch("alice", "reviewed"));
  });

  it("an exchange rejection arrives typed, with the exchange's code, and no credential anywhere", async () => {
    const err = await runAs(alice, () =>
      trading.handle(cred).createOrder("BTC/USDT", "limit", "buy", 50, 60000),
    ).catch((e) => e);
    expect(err.code).toBe("ERR_TRADING_EXCHANGE_ERROR");
    expect(err.details.exchange).toBe("binance");
    const rendered = `${err.message}\n${err.stack}\n${inspect(err, { showHidden: true, depth: 8 })}\n${JSON.stringify(err)}`;
    expect(rendered).not.toContain(secret);
    expect(rendered).not.toContain(apiKey);
    expect(rendered).not.toMatch(/signature=/);
  });

  it("no canary in the audit log", async () => {
    const all: string[] = [];
    for await (const e of audit.readEntries(userChainId("alice")))
      all.push(e.body, e.payload ?? "");
    expect(all.length).toBeGreaterThan(4);
    expect(all.join("\n")).not.toContain(secret);
    expect(all.join("\n")).not.toContain(apiKey);
  });
});
