import { describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { runAs } from "../../src/guard/context.js";
import {
  assertIsolation,
  type EffectRecorder,
  type IsolationSurface,
} from "../../src/guard/testing/index.js";
import { createTradingClient, type TradingClient } from "../../src/trading/client.js";
import type { ExchangeLike, OrderLike } from "../../src/trading/exchange-like.js";
import type { TradingAudit } from "../../src/trading/ports.js";
import { createMemoryTradingState, type TradingStateStore } from "../../src/trading/state.js";
import { createVault, type Vault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { localKms, makeIdp } from "../vault/helpers.js";

/**
 * The isolation kit over keywarden's trading handlers: every guarded handler is attacked as user A
 * against user B's credentials and account, and again with the guard layer switched off (then the
 * vault's owner-scoped store must hold on its own). Exchange calls and audit appends are the
 * recorded side effects; a denied call may cause none.
 */
interface World {
  vault: Vault;
  trading: TradingClient;
  state: TradingStateStore;
  auditStore: ReturnType<typeof createMemoryAuditStore>;
  books: Map<string, OrderLike[]>;
}

/** A per-key exchange double: each API key has its own book, and every call is recorded. */
function exchangeFor(recorder: EffectRecorder, books: Map<string, OrderLike[]>) {
  let n = 0;
  return (): ExchangeLike => {
    const book = (x: ExchangeLike) => {
      const key = String(x.apiKey);
      if (!books.has(key)) books.set(key, []);
      return books.get(key) as OrderLike[];
    };
    const x: ExchangeLike = {
      markets: {},
      loadMarkets: async () => ({}),
      createOrder: async (symbol, type, side, amount, price) => {
        recorder.record("exchange.createOrder", { apiKey: x.apiKey, symbol });
        const o = {
          id: `o${++n}`,
          symbol,
          type,
          side,
          amount,
          price,
          clientOrderId: `note-${x.apiKey}`,
        };
        book(x).push(o);
        return o;
      },
      cancelOrder: async (id) => {
        recorder.record("exchange.cancelOrder", { apiKey: x.apiKey, id });
        const b = book(x);
        const i = b.findIndex((o) => o.id === id);
        if (i >= 0) b.splice(i, 1);
        return { id };
      },
      cancelAllOrders: async (symbol) => {
        recorder.record("exchange.cancelAllOrders", { apiKey: x.apiKey, symbol });
        const b = book(x);
        const gone = b.filter((o) => symbol === undefined || o.symbol === symbol);
        books.set(
          String(x.apiKey),
          b.filter((o) => !gone.includes(o)),
        );
        return gone;
      },
      fetchOrder: async (id) => {
        recorder.record("exchange.fetchOrder", { apiKey: x.apiKey });
        return book(x).find((o) => o.id === id) ?? { id, symbol: "BTC/USDT" };
      },
      fetchOpenOrders: async () => {
        recorder.record("exchange.fetchOpenOrders", { apiKey: x.apiKey });
        return [...book(x)];
      },
      fetchMyTrades: async () => [],
      fetchBalance: async () => {
        recorder.record("exchange.fetchBalance", { apiKey: x.apiKey });
        return { owner: x.apiKey };
      },
      fetchTicker: async () => ({ last: 100 }),
    };
    return x;
  };
}

const idp = await makeIdp();
const users = { a: await idp.session("iso-a"), b: await idp.session("iso-b") };

const surface: IsolationSurface<World> = {
  name: "trading",
  users: () => users,
  world(recorder) {
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    const auditStore = createMemoryAuditStore();
    const log = new AuditLog({ store: auditStore });
    const audit: TradingAudit = {
      appendEntry: async (chainId, input) => {
        recorder.record("audit.append", { chainId, action: input.action });
        return log.appendEntry(chainId, input);
      },
      readEntries: (chainId, from, to) => log.readEntries(chainId, from, to),
    };
    const state = createMemoryTradingState();
    const books = new Map<string, OrderLike[]>();
    const trading = createTradingClient({
      vault,
      audit,
      state,
      exchanges: exchangeFor(recorder, books),
      cancelAttempts: 1,
    });
    return { vault, trading, state, auditStore, books };
  },
  async seed(w, { a, b }) {
    const ids: Record<string, string[]> = {};
    for (const [who, identity] of [
      ["A", a],
      ["B", b],
    ] as const) {
      const creds: string[] = [];
      for (const i of [1, 2]) {
        const m = await w.vault.store(identity, {
          exchange: "binance",
          label: `CANARY-${who}-label-${i}`,
          credentials: { apiKey: `CANARY-${who}-key-${i}`, secret: `CANARY-${who}-secret-${i}` },
        });
        creds.push(m.credentialId);
        await runAs(identity, () =>
          w.trading.createOrder(m.credentialId, {
            symbol: "BTC/USDT",
            type: "limit",
            side: "buy",
            amount: 1,
            price: 100,
          }),
        );
      }
      ids[who] = creds;
    }
    return {
      a: { ids: { credential: ids.A as string[], account: [a.userId] }, canaries: ["CANARY-A-"] },
      b: { ids: { credential: ids.B as string[], account: [b.userId] }, canaries: ["CANARY-B-"] },
    };
  },
  async snapshot(w) {
    const chains: Record<string, string[]> = {};
    for (const u of ["iso-a", "iso-b"]) {
      chains[u] = [];
      for await (const e of w.auditStore.read(`user:${u}`, 0)) chains[u].push(e.body);
    }
    return {
      chains,
      killswitch: await w.state.listActive(),
      credentials: [await w.vault.list(users.a), await w.vault.list(users.b)],
      books: [...w.books].map(([k, v]) => [k, v.map((o) => o.id)]),
    };
  },
  handlers: (w) => ({
    "trading.createOrder": w.trading.createOrder,
    "trading.cancelOrder": w.trading.cancelOrder,
    "trading.cancelAllOrders": w.trading.cancelAllOrders,
    "trading.read": w.trading.read,
    "trading.reconcile": w.trading.reconcile,
    "trading.fireKillSwitch": w.trading.fireKillSwitch,
    "trading.releaseKillSwitch": w.trading.releaseKillSwitch,
    "trading.recordParameterChange": w.trading.recordParameterChange,
  }),
  probes: {
    "trading.createOrder": {
      ids: ["credential"],
      args: (c: string) => [
        c,
        { symbol: "BTC/USDT", type: "limit", side: "sell", amount: 1, price: 101 },
      ],
    },
    "trading.cancelOrder": { ids: ["credential"], args: (c: string) => [c, "o1", "BTC/USDT"] },
    "trading.cancelAllOrders": { ids: ["credential"], args: (c: string) => [c, "BTC/USDT"] },
    "trading.read": { ids: ["credential"], args: (c: string) => [c, "fetchOpenOrders", []] },
    "trading.reconcile": { ids: ["credential"], args: (c: string) => [c] },
    "trading.fireKillSwitch": { ids: ["account"], args: (u: string) => [u, "isolation probe"] },
    "trading.releaseKillSwitch": { ids: ["account"], args: (u: string) => [u, "isolation probe"] },
    "trading.recordParameterChange": {
      ids: ["account"],
      args: (u: string) => [u, { name: "probe.param", to: 1 }],
    },
  },
};

describe("isolation kit over the trading handlers", () => {
  it("user A cannot read, modify or trigger any side effect on user B's credentials or account", async () => {
    const report = await assertIsolation(surface);
    expect(report.ok).toBe(true);
    expect(report.handlers.every((h) => h.kind === "owned")).toBe(true);
    expect(report.calls).toBeGreaterThan(50);
  }, 120_000);
});
