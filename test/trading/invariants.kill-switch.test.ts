/**
 * The kill switch's ordering invariants, against the real trading client, vault and audit log,
 * with a timeline of what each port saw: the kill-switch state store, the audit log and the
 * exchange double (which stands in for the network only).
 */
import { describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { runAs } from "../../src/guard/context.js";
import { createTradingClient } from "../../src/trading/client.js";
import type { ExchangeLike, OrderLike } from "../../src/trading/exchange-like.js";
import type { TradingAudit } from "../../src/trading/ports.js";
import { createMemoryTradingState, type TradingStateStore } from "../../src/trading/state.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { localKms, makeIdp } from "../vault/helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function world(options: { stateGetMs?: number; createMs?: number }) {
  const timeline: string[] = [];
  const idp = await makeIdp();
  const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
  const log = new AuditLog({ store: createMemoryAuditStore() });
  const memory = createMemoryTradingState();
  const state: TradingStateStore = {
    get: async (userId) => {
      timeline.push("state.get");
      if (options.stateGetMs) await sleep(options.stateGetMs);
      const s = await memory.get(userId);
      timeline.push(`state.read:${s.active ? "active" : "inactive"}`);
      return s;
    },
    set: async (userId, s) => {
      timeline.push(`state.set:${s.active ? "active" : "inactive"}`);
      await memory.set(userId, s);
    },
    listActive: () => memory.listActive(),
  };
  const audit: TradingAudit = {
    appendEntry: async (chainId, input) => {
      timeline.push(`audit:${input.action}`);
      return log.appendEntry(chainId, input);
    },
    readEntries: (chainId, from) => log.readEntries(chainId, from),
  } as TradingAudit;
  const open: OrderLike[] = [];
  let n = 0;
  const exchanges = (): ExchangeLike => ({
    markets: { "BTC/USDT": {} },
    throttler: {},
    loadMarkets: async () => ({ "BTC/USDT": {} }),
    setMarkets: () => undefined,
    createOrder: async (symbol, type, side, amount, price) => {
      timeline.push("exchange.createOrder");
      if (options.createMs) await sleep(options.createMs);
      const o = { id: String(++n), symbol, type, side, amount, price, status: "open" };
      open.push(o);
      timeline.push(`exchange.created:${o.id}`);
      return o;
    },
    cancelOrder: async (id) => ({ id }),
    cancelAllOrders: async (symbol) => {
      timeline.push(`exchange.cancelAll:${open.map((o) => o.id).join(",")}`);
      return open.splice(0).filter((o) => o.symbol === symbol);
    },
    fetchOrder: async (id) => ({ id, symbol: "BTC/USDT" }),
    fetchOpenOrders: async () => [...open],
    fetchMyTrades: async () => [],
    fetchBalance: async () => ({}),
    fetchTicker: async () => ({ last: 60000 }),
  });
  const trading = createTradingClient({ vault, audit, state, exchanges });
  const alice = await idp.session("alice");
  const { credentialId } = await vault.store(alice, {
    exchange: "binance",
    credentials: { apiKey: "alice-key", secret: "alice-secret" },
  });
  return { timeline, trading, alice, credentialId, log, open };
}

describe("trading invariants: the kill switch", () => {
  it("the kill-switch check and the order intent happen under the same per-user lock", async () => {
    // The state read is slow; the switch is fired while an order is between its check and intent.
    const w = await world({ stateGetMs: 30 });
    const order = runAs(w.alice, () =>
      w.trading.handle(w.credentialId).createOrder("BTC/USDT", "limit", "buy", 1, 100),
    );
    await sleep(10);
    expect(w.timeline).toEqual(["state.get"]); // the order is inside its check
    const fired = runAs(w.alice, () => w.trading.fireKillSwitch("alice", "drawdown"));
    await order;
    await fired;
    const at = (e: string) => w.timeline.indexOf(e);
    // The switch's write waited for the lock: it came after the intent, never between the
    // check and the intent (which would send an order the switch should have stopped).
    expect(at("state.read:inactive")).toBeLessThan(at("audit:order.intent"));
    expect(at("audit:order.intent")).toBeLessThan(at("state.set:active"));
    // And an order checked after the write is refused, with nothing sent.
    const sent = w.timeline.filter((e) => e === "exchange.createOrder").length;
    await expect(
      runAs(w.alice, () =>
        w.trading.handle(w.credentialId).createOrder("BTC/USDT", "limit", "buy", 1, 100),
      ),
    ).rejects.toMatchObject({ code: "ERR_TRADING_KILL_SWITCH_ACTIVE" });
    expect(w.timeline.filter((e) => e === "exchange.createOrder")).toHaveLength(sent);
  });

  it("orders that passed the check before the switch complete first, then are canceled", async () => {
    // The exchange is slow: the switch fires while the order is on the wire.
    const w = await world({ createMs: 40 });
    const order = runAs(w.alice, () =>
      w.trading.handle(w.credentialId).createOrder("BTC/USDT", "limit", "buy", 1, 100),
    );
    while (!w.timeline.includes("exchange.createOrder")) await sleep(1);
    const report = await runAs(w.alice, () => w.trading.fireKillSwitch("alice", "drawdown"));
    const placed = await order;
    expect(placed.id).toBe("1");
    const at = (e: string) => w.timeline.indexOf(e);
    // The in-flight order completed before the cancel, and the cancel took it down.
    expect(at("exchange.created:1")).toBeLessThan(at("exchange.cancelAll:1"));
    expect(w.open).toEqual([]);
    expect(report.cancels).toEqual([
      { credentialId: w.credentialId, exchange: "binance", outcome: "canceled", attempts: 1 },
    ]);
    const actions: string[] = [];
    for await (const e of w.log.readEntries("user:alice"))
      actions.push((JSON.parse(e.body) as { action: string }).action);
    expect(actions).toEqual(["order.intent", "order.placed", "order.canceled", "killswitch.fired"]);
  });
});
