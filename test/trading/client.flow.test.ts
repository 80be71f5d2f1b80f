import { inspect } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { userChainId } from "../../src/audit/core/entry.js";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { runAs } from "../../src/guard/context.js";
import type { Identity } from "../../src/guard/identity.js";
import { hostIdentity, operatorIdentity } from "../../src/guard/identity.js";
import { createTradingClient } from "../../src/trading/client.js";
import type { ExchangeLike, OrderLike } from "../../src/trading/exchange-like.js";
import { createMemoryTradingState, type TradingStateStore } from "../../src/trading/state.js";
import { createVault, type Vault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { canary, localKms, makeIdp } from "../vault/helpers.js";

/**
 * The trading flow against the real vault and audit log. The exchange is a recording double that
 * stands in for the network only: it records each call with the credentials that were set on the
 * instance at that moment, so the tests can see what reached "the exchange" and when.
 */
interface Call {
  method: string;
  args: unknown[];
  apiKey: string | undefined;
  secret: string | undefined;
}

function recordingExchange(
  log: Call[],
  behaviour: { failCreate?: Error; delayMs?: number; failCancel?: number } = {},
) {
  let n = 0;
  const open: OrderLike[] = [];
  return (): ExchangeLike => {
    const x: ExchangeLike = {
      markets: { "BTC/USDT": {} },
      throttler: {},
      loadMarkets: async () => ({ "BTC/USDT": {} }),
      setMarkets: () => undefined,
      createOrder: async (symbol, type, side, amount, price, params) => {
        log.push({
          method: "createOrder",
          args: [symbol, type, side, amount, price, params],
          apiKey: x.apiKey,
          secret: x.secret,
        });
        x.last_request_headers = { "X-MBX-APIKEY": x.apiKey };
        if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
        if (behaviour.failCreate) throw behaviour.failCreate;
        const o = {
          id: String(++n),
          symbol,
          side,
          type,
          amount,
          price,
          status: "open",
          clientOrderId: String(params?.clientOrderId),
        };
        open.push(o);
        return o;
      },
      cancelOrder: async (id) => {
        log.push({ method: "cancelOrder", args: [id], apiKey: x.apiKey, secret: x.secret });
        return { id };
      },
      cancelAllOrders: async (symbol) => {
        log.push({
          method: "cancelAllOrders",
          args: symbol === undefined ? [] : [symbol],
          apiKey: x.apiKey,
          secret: x.secret,
        });
        if (behaviour.failCancel && behaviour.failCancel-- > 0)
          throw new Error("binance 503 Service Unavailable");
        return open.splice(0);
      },
      fetchOrder: async (id) => ({ id, symbol: "BTC/USDT" }),
      fetchOpenOrders: async () => {
        log.push({ method: "fetchOpenOrders", args: [], apiKey: x.apiKey, secret: x.secret });
        return [...open];
      },
      fetchMyTrades: async () => [],
      fetchBalance: async () => ({ USDT: { free: 1000 } }),
      fetchTicker: async () => ({ last: 60000 }),
    };
    return x;
  };
}

async function entries(audit: AuditLog, userId: string) {
  const out: { action: string; payload: Record<string, unknown> | null }[] = [];
  for await (const e of audit.readEntries(userChainId(userId))) {
    const body = JSON.parse(e.body) as { action: string };
    out.push({
      action: body.action,
      payload: e.payload ? (JSON.parse(e.payload).value as Record<string, unknown>) : null,
    });
  }
  return out;
}

describe("trading client", () => {
  let vault: Vault;
  let audit: AuditLog;
  let state: TradingStateStore;
  let calls: Call[];
  let alice: Identity;
  let bob: Identity;
  let aliceKey: string;
  let bobKey: string;
  const secretA = canary();
  const secretB = canary();

  async function client(
    behaviour?: Parameters<typeof recordingExchange>[1],
    risk?: Parameters<typeof createTradingClient>[0]["risk"],
  ) {
    return createTradingClient({
      vault,
      audit,
      state,
      exchanges: recordingExchange(calls, behaviour),
      risk,
      cancelAttempts: 2,
    });
  }

  beforeEach(async () => {
    const idp = await makeIdp();
    vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    audit = new AuditLog({ store: createMemoryAuditStore() });
    state = createMemoryTradingState();
    calls = [];
    alice = await idp.session("alice");
    bob = await idp.session("bob");
    aliceKey = (
      await vault.store(alice, {
        exchange: "binance",
        credentials: { apiKey: "alice-key", secret: secretA },
      })
    ).credentialId;
    bobKey = (
      await vault.store(bob, {
        exchange: "binance",
        credentials: { apiKey: "bob-key", secret: secretB },
      })
    ).credentialId;
  });

  it("places an order: intent first, credentials only during the call, then the result", async () => {
    const trading = await client();
    const order = await runAs(alice, () =>
      trading.handle(aliceKey).createOrder("BTC/USDT", "limit", "buy", 0.01, 60000),
    );
    expect(order.id).toBe("1");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: "createOrder", apiKey: "alice-key", secret: secretA });
    const log = await entries(audit, "alice");
    expect(log.map((e) => e.action)).toEqual(["order.intent", "order.placed"]);
    expect(log[0]?.payload).toMatchObject({
      exchange: "binance",
      symbol: "BTC/USDT",
      side: "buy",
      amount: "0.01",
      price: "60000",
    });
    expect(log[1]?.payload?.orderId).toBe("1");
    expect(log[1]?.payload?.clientOrderId).toBe(log[0]?.payload?.clientOrderId);
    expect(JSON.stringify(log)).not.toContain(secretA);
  });

  it("an instance goes back to the pool without credentials or request copies", async () => {
    const made: ExchangeLike[] = [];
    const factory = recordingExchange(calls);
    const trading = createTradingClient({
      vault,
      audit,
      state,
      exchanges: () => {
        const x = factory();
        made.push(x);
        return x;
      },
    });
    await runAs(alice, () =>
      trading.handle(aliceKey).createOrder("BTC/USDT", "limit", "buy", 1, 100),
    );
    expect(made.length).toBeGreaterThanOrEqual(2); // one shared market-data instance + one pooled
    for (const x of made) {
      expect(x.apiKey).toBeUndefined();
      expect(x.secret).toBeUndefined();
      expect(x.last_request_headers).toBeUndefined();
      expect(inspect(x, { depth: 5 })).not.toContain(secretA);
    }
  });

  it("user A cannot trade with user B's credential: same error as a missing id, nothing sent or logged", async () => {
    const trading = await client();
    const attempt = runAs(alice, () =>
      trading.handle(bobKey).createOrder("BTC/USDT", "limit", "buy", 1, 100),
    );
    await expect(attempt).rejects.toMatchObject({
      code: "ERR_GUARD_NOT_FOUND",
      message: "resource not found",
    });
    const missing = runAs(alice, () =>
      trading.handle("cred_does_not_exist").createOrder("BTC/USDT", "limit", "buy", 1, 100),
    );
    await expect(missing).rejects.toMatchObject({
      code: "ERR_GUARD_NOT_FOUND",
      message: "resource not found",
    });
    expect(calls).toEqual([]);
    expect(await entries(audit, "bob")).toEqual([]);
  });

  it("a refused method never reaches the network; funds-moving attempts are audited", async () => {
    const trading = await client();
    const handle = trading.handle(aliceKey) as unknown as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
    for (const name of [
      "withdraw",
      "transfer",
      "sapiPostCapitalWithdrawApply",
      "request",
      "fetch",
      "privatePostWithdraw",
    ]) {
      await expect(
        runAs(alice, () =>
          (handle[name] as (...a: unknown[]) => Promise<unknown>)("USDT", 100, "addr"),
        ),
      ).rejects.toMatchObject({
        code: "ERR_TRADING_METHOD_REFUSED",
      });
    }
    expect(handle.apiKey).toBeTypeOf("function"); // even a credential field name is only a refusal
    await expect(
      runAs(alice, () => (handle.apiKey as () => Promise<unknown>)()),
    ).rejects.toMatchObject({
      code: "ERR_TRADING_METHOD_REFUSED",
    });
    expect(calls).toEqual([]);
    const refused = (await entries(audit, "alice")).filter((e) => e.action === "trading.refused");
    expect(refused.map((e) => e.payload?.method)).toEqual([
      "withdraw",
      "transfer",
      "sapiPostCapitalWithdrawApply",
      "privatePostWithdraw",
    ]);
    expect(() => {
      (handle as Record<string, unknown>).createOrder = () => 1;
    }).toThrow(TypeError);
  });

  it("validates orders and refuses unknown order parameters (no margin auto-borrow through params)", async () => {
    const trading = await client();
    const h = trading.handle(aliceKey);
    await expect(
      runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 1)),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(
      runAs(alice, () => h.createOrder("btc-usdt", "limit", "buy", 1, 1)),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(
      runAs(alice, () =>
        h.createOrder("BTC/USDT", "market", "buy", 1, undefined, { sideEffectType: "MARGIN_BUY" }),
      ),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    expect(calls).toEqual([]);
  });

  it("exchange errors reach the caller typed and scrubbed, and order.failed carries no credential", async () => {
    const raw = new Error(
      `binance POST https://api.binance.com/api/v3/order?symbol=BTCUSDT&signature=9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0 400 Bad Request {"code":-2010,"msg":"Account has insufficient balance; key ${secretA}"}`,
    );
    Object.defineProperty(raw, "constructor", { value: class InsufficientFunds {} });
    const trading = await client({ failCreate: raw });
    const err = await runAs(alice, () =>
      trading.handle(aliceKey).createOrder("BTC/USDT", "limit", "buy", 1, 100),
    ).catch((e) => e);
    expect(err).toMatchObject({
      code: "ERR_TRADING_EXCHANGE_ERROR",
      details: { exchange: "binance", status: 400, exchangeCode: "-2010" },
    });
    const rendered = `${err.message} ${err.stack} ${inspect(err, { showHidden: true, depth: 5 })} ${JSON.stringify(err)}`;
    expect(rendered).not.toContain(secretA);
    expect(rendered).not.toContain("9f8e7d6c5b4a3928");
    expect(rendered).not.toContain("api.binance.com");
    const log = await entries(audit, "alice");
    expect(log.map((e) => e.action)).toEqual(["order.intent", "order.failed"]);
    expect(JSON.stringify(log)).not.toContain(secretA);
  });

  it("if the write-ahead intent cannot be recorded, nothing is sent", async () => {
    const broken = {
      ...audit,
      appendEntry: async () => Promise.reject(new Error("disk full")),
      readEntries: audit.readEntries.bind(audit),
    };
    const trading = createTradingClient({
      vault,
      audit: broken,
      state,
      exchanges: recordingExchange(calls),
    });
    await expect(
      runAs(alice, () => trading.handle(aliceKey).createOrder("BTC/USDT", "limit", "buy", 1, 100)),
    ).rejects.toMatchObject({
      code: "ERR_TRADING_INTENT_NOT_RECORDED",
    });
    expect(calls).toEqual([]);
  });

  it("when the kill-switch state cannot be read, no order is sent", async () => {
    const unreachable: TradingStateStore = {
      ...state,
      get: async () => Promise.reject(new Error("ECONNREFUSED")),
    };
    const trading = createTradingClient({
      vault,
      audit,
      state: unreachable,
      exchanges: recordingExchange(calls),
    });
    await expect(
      runAs(alice, () => trading.handle(aliceKey).createOrder("BTC/USDT", "limit", "buy", 1, 100)),
    ).rejects.toMatchObject({
      code: "ERR_TRADING_STATE_UNAVAILABLE",
    });
    expect(calls).toEqual([]);
  });

  it("kill switch: cancels open orders, blocks further orders until released, both audited", async () => {
    const trading = await client();
    const h = trading.handle(aliceKey);
    await runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 1, 100));
    const report = await runAs(alice, () => trading.fireKillSwitch("alice", "drawdown limit"));
    expect(report.cancels).toEqual([
      { credentialId: aliceKey, exchange: "binance", outcome: "canceled", attempts: 1 },
    ]);
    // cancel per symbol of the open orders, then check that nothing is left open
    expect(calls.map((c) => c.method)).toEqual([
      "createOrder",
      "fetchOpenOrders",
      "cancelAllOrders",
      "fetchOpenOrders",
    ]);
    expect(calls[2]?.args).toEqual(["BTC/USDT"]);
    await expect(
      runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 1, 100)),
    ).rejects.toMatchObject({
      code: "ERR_TRADING_KILL_SWITCH_ACTIVE",
    });
    expect((await state.get("alice")).active).toBe(true);
    await runAs(alice, () => trading.releaseKillSwitch("alice", "reviewed"));
    await runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 1, 100));
    const actions = (await entries(audit, "alice")).map((e) => e.action);
    expect(actions).toEqual([
      "order.intent",
      "order.placed",
      "order.canceled",
      "killswitch.fired",
      "killswitch.released",
      "order.intent",
      "order.placed",
    ]);
    // Bob is untouched.
    expect((await state.get("bob")).active).toBe(false);
  });

  it("an order racing the kill switch either completes before it (and is then canceled) or is refused", async () => {
    const trading = await client({ delayMs: 20 });
    const h = trading.handle(aliceKey);
    const orders = Array.from({ length: 6 }, (_, i) =>
      runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 1, 100 + i)).then(
        (o) => ({ ok: true as const, id: o.id }),
        (e) => ({ ok: false as const, code: (e as { code: string }).code }),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    const fired = runAs(alice, () => trading.fireKillSwitch("alice", "race"));
    const results = await Promise.all(orders);
    await fired;
    const placed = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(placed.length + refused.length).toBe(6);
    for (const r of refused) expect(r).toMatchObject({ code: "ERR_TRADING_KILL_SWITCH_ACTIVE" });
    const cancelAt = calls.findIndex((c) => c.method === "cancelAllOrders");
    expect(cancelAt).toBeGreaterThanOrEqual(0);
    // every order that reached the exchange did so before the cancel-all
    expect(calls.slice(cancelAt + 1).filter((c) => c.method === "createOrder")).toEqual([]);
    expect(calls.filter((c) => c.method === "createOrder")).toHaveLength(placed.length);
  });

  it("partial cancel failures are retried and reported, never hidden", async () => {
    const trading = await client({ failCancel: 5 });
    await runAs(alice, () =>
      trading.handle(aliceKey).createOrder("BTC/USDT", "limit", "buy", 1, 100),
    );
    const err = await runAs(alice, () => trading.fireKillSwitch("alice", "test")).catch((e) => e);
    expect(err).toMatchObject({
      code: "ERR_TRADING_PARTIAL_CANCEL",
      details: { failed: 1, canceled: 0 },
    });
    expect(calls.filter((c) => c.method === "cancelAllOrders")).toHaveLength(2);
    expect((await state.get("alice")).active).toBe(true);
    const fired = (await entries(audit, "alice")).find((e) => e.action === "killswitch.fired");
    expect(fired?.payload?.cancels).toEqual([
      { exchange: "binance", credentialId: aliceKey, outcome: "failed", attempts: 2 },
    ]);
  });

  it("an operator can fire a user's switch; without the user's authorization it blocks orders and says it could not cancel", async () => {
    const trading = await client();
    const err = await runAs(operatorIdentity("ops-1"), () =>
      trading.fireKillSwitch("alice", "incident"),
    ).catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_TRADING_PARTIAL_CANCEL" });
    expect((await state.get("alice")).active).toBe(true);
    expect(calls).toEqual([]);
    await expect(
      runAs(alice, () => trading.handle(aliceKey).createOrder("BTC/USDT", "limit", "buy", 1, 100)),
    ).rejects.toMatchObject({
      code: "ERR_TRADING_KILL_SWITCH_ACTIVE",
    });
  });

  it("a user cannot fire or release another user's kill switch", async () => {
    const trading = await client();
    await expect(runAs(alice, () => trading.fireKillSwitch("bob", "x"))).rejects.toMatchObject({
      code: "ERR_GUARD_NOT_FOUND",
    });
    await expect(runAs(alice, () => trading.releaseKillSwitch("bob", "x"))).rejects.toMatchObject({
      code: "ERR_GUARD_NOT_FOUND",
    });
    expect((await state.get("bob")).active).toBe(false);
    expect(await entries(audit, "bob")).toEqual([]);
  });

  it("risk limits refuse bad trades before anything is sent, and record why", async () => {
    const trading = await client(undefined, {
      symbols: ["BTC/USDT"],
      maxNotional: "1000",
      priceBand: 0.05,
    });
    const h = trading.handle(aliceKey);
    await expect(
      runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 1, 60000)),
    ).rejects.toMatchObject({
      code: "ERR_TRADING_RISK_LIMIT",
      details: { limit: "maxNotional" },
    });
    await expect(
      runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 0.001, 40000)),
    ).rejects.toMatchObject({
      details: { limit: "priceBand" },
    });
    await expect(
      runAs(alice, () => h.createOrder("ETH/USDT", "limit", "buy", 0.001, 3000)),
    ).rejects.toMatchObject({
      details: { limit: "symbols" },
    });
    expect(calls).toEqual([]);
    await runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 0.01, 60100));
    expect(calls.map((c) => c.method)).toEqual(["createOrder"]);
    const failed = (await entries(audit, "alice")).filter((e) => e.action === "order.failed");
    expect(failed.map((e) => e.payload?.code)).toEqual([
      "ERR_TRADING_RISK_LIMIT",
      "ERR_TRADING_RISK_LIMIT",
      "ERR_TRADING_RISK_LIMIT",
    ]);
  });

  it("maxOpenOrders is checked against the exchange inside the same credential opening", async () => {
    const trading = await client(undefined, { maxOpenOrders: 1 });
    const h = trading.handle(aliceKey);
    await runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 1, 100));
    await expect(
      runAs(alice, () => h.createOrder("BTC/USDT", "limit", "buy", 1, 100)),
    ).rejects.toMatchObject({
      details: { limit: "maxOpenOrders" },
    });
    expect(calls.filter((c) => c.method === "createOrder")).toHaveLength(1);
  });

  it("a host identity passes the guard but cannot open credentials (the vault needs a session or grant)", async () => {
    const trading = await client();
    await expect(
      runAs(hostIdentity("alice"), () =>
        trading.handle(aliceKey).createOrder("BTC/USDT", "limit", "buy", 1, 100),
      ),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_VAULT_/),
    });
    expect(calls).toEqual([]);
  });
});

describe("trading client: reconciliation and parameters", () => {
  it("reconcile reports an order placed around keywarden", async () => {
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const calls: Call[] = [];
    const factory = recordingExchange(calls);
    let sneaky: ExchangeLike | undefined;
    const trading = createTradingClient({
      vault,
      audit,
      state: createMemoryTradingState(),
      exchanges: () => {
        const x = factory();
        sneaky ??= x;
        return x;
      },
    });
    const alice = await idp.session("alice");
    const cred = (
      await vault.store(alice, {
        exchange: "binance",
        credentials: { apiKey: "k", secret: canary() },
      })
    ).credentialId;
    await runAs(alice, () => trading.handle(cred).createOrder("BTC/USDT", "limit", "buy", 1, 100));
    // An order placed directly on the exchange, not through keywarden:
    await sneaky?.createOrder("BTC/USDT", "limit", "sell", 1, 200, { clientOrderId: "web-ui" });
    const report = await runAs(alice, () => trading.reconcile(cred));
    expect(report.coverage).toBe("open-only");
    expect(report.matched).toBe(1);
    expect(report.notInLog).toEqual([
      { orderId: "2", symbol: "BTC/USDT", clientOrderId: "web-ui" },
    ]);
  });

  it("records parameter changes with before and after, only on the caller's own chain", async () => {
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const trading = createTradingClient({
      vault,
      audit,
      state: createMemoryTradingState(),
      exchanges: recordingExchange([]),
    });
    const alice = await idp.session("alice");
    await runAs(alice, () =>
      trading.recordParameterChange("alice", { name: "grid.spacing", from: "0.5", to: "0.75" }),
    );
    await expect(
      runAs(alice, () => trading.recordParameterChange("bob", { name: "x", to: 1 })),
    ).rejects.toMatchObject({
      code: "ERR_GUARD_NOT_FOUND",
    });
    const log = await entries(audit, "alice");
    expect(log).toEqual([
      { action: "parameter.changed", payload: { name: "grid.spacing", from: "0.5", to: "0.75" } },
    ]);
    expect(await entries(audit, "bob")).toEqual([]);
  });
});

describe("kill switch with the authorization the user left", () => {
  it("an operator's kill switch cancels with the user's cancel grant while they are logged out", async () => {
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const calls: Call[] = [];
    const state = createMemoryTradingState();
    const trading = createTradingClient({
      vault,
      audit,
      state,
      exchanges: recordingExchange(calls),
    });
    const alice = await idp.session("alice");
    const cred = (
      await vault.store(alice, {
        exchange: "binance",
        credentials: { apiKey: "k", secret: canary() },
      })
    ).credentialId;
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade", "cancel"],
      ttlMs: 600_000,
    });
    await runAs(grant, () => trading.handle(cred).createOrder("BTC/USDT", "limit", "buy", 1, 100));
    const report = await runAs(operatorIdentity("ops-1"), () =>
      trading.fireKillSwitch("alice", "venue incident"),
    );
    expect(report.cancels).toEqual([
      { credentialId: cred, exchange: "binance", outcome: "canceled", attempts: 1 },
    ]);
    expect(calls.map((c) => c.method)).toContain("cancelAllOrders");
    expect((await state.get("alice")).active).toBe(true);
  });

  it("a grant without the cancel action does not let anyone cancel: reported as not-authorized", async () => {
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const calls: Call[] = [];
    const trading = createTradingClient({
      vault,
      audit,
      state: createMemoryTradingState(),
      exchanges: recordingExchange(calls),
    });
    const alice = await idp.session("alice");
    const cred = (
      await vault.store(alice, {
        exchange: "binance",
        credentials: { apiKey: "k", secret: canary() },
      })
    ).credentialId;
    await vault.createGrant(alice, { exchanges: ["binance"], actions: ["trade"], ttlMs: 600_000 });
    const err = await runAs(operatorIdentity("ops-1"), () =>
      trading.fireKillSwitch("alice", "incident"),
    ).catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_TRADING_PARTIAL_CANCEL" });
    expect((err.cause as { cancels: unknown[] }).cancels).toEqual([
      { credentialId: cred, exchange: "binance", outcome: "not-authorized", attempts: 0 },
    ]);
    expect(calls).toEqual([]);
  });
});
