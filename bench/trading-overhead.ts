/**
 * Issue 21's targets, measured in one run: keywarden's CPU per order (exchange I/O excluded) at
 * most 0.1x one ccxt instance construction and at most 1x one ccxt request signing (binance
 * `sign()` of a private POST /api/v3/order with a dummy key), both measured here.
 *
 * Issue 9's target, measured in the same run: keywarden's added CPU per order — guard, kill-switch
 * check, intent and result entries (memory audit store), credential open (LocalKms), instance
 * checkout — against a raw ccxt call to the simulator on a warm instance, must be at most half the
 * CPU of constructing one ccxt exchange instance. CPU time is process.cpuUsage (user + system);
 * the simulator runs in this process, so its work is in both the raw and the keywarden figure and
 * cancels out of the difference.
 *
 * Run alone: `npx tsx bench/trading-overhead.ts` (also run by bench/trading.bench.ts).
 */
import { randomBytes } from "node:crypto";
import { AuditLog } from "../src/audit/core/log.js";
import { auditSink } from "../src/audit/core/sink.js";
import { createMemoryAuditStore } from "../src/audit/storage/memory.js";
import { loadCcxtExchange } from "../src/ccxt-loader.js";
import { runAs } from "../src/guard/context.js";
import { hostIdentity } from "../src/guard/identity.js";
import { startExchangeSimulator } from "../src/permissions/testing/index.js";
import { Secret } from "../src/secret.js";
import { ccxtExchangeFactory } from "../src/trading/ccxt.js";
import { createTradingClient } from "../src/trading/client.js";
import type { ExchangeLike, OrderLike } from "../src/trading/exchange-like.js";
import { InstancePool } from "../src/trading/pool.js";
import { createMemoryTradingState } from "../src/trading/state.js";
import { createVault } from "../src/vault/core/vault.js";
import { LocalKms } from "../src/vault/kms/local.js";
import { MemoryCredentialStore } from "../src/vault/stores/memory.js";
import { makeIdp } from "../test/vault/helpers.js";

/**
 * CPU microseconds per call of `fn`, over `n` sequential calls after `warm` warm-up calls. The
 * per-order figures warm up with as many calls as they measure: the JIT keeps optimizing these
 * paths for the first few thousand calls (two audit appends cost 111 µs per call over the first
 * 1,000 calls of a fresh process, 15 µs once warm), and a long-running bot pays the warm cost.
 */
async function cpuPerCall(
  n: number,
  fn: (i: number) => Promise<unknown> | unknown,
  warm = 20,
): Promise<number> {
  for (let i = 0; i < warm; i++) await fn(i);
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

/** A private binance order request as ccxt's createOrder hands it to `sign()`. */
export const SIGNED_ORDER_PARAMS = {
  symbol: "BTCUSDT",
  side: "BUY",
  type: "LIMIT",
  quantity: "0.001",
  price: "50000",
  timeInForce: "GTC",
  newClientOrderId: "kw1",
} as const;

export interface TradingOverheadReport {
  constructionUs: number;
  /** One ccxt `sign()` of a private order request (HMAC-SHA256 and URL encoding). */
  signUs: number;
  /** Sum of keywarden's stages measured alone (no network). */
  stagesUs: number;
  rawOrderUs: number;
  keywardenOrderUs: number;
  addedUs: number;
  ratio: number;
  target: number;
  stages: Record<string, number>;
  /** The credential open again, with the vault recording `vault.grant.used` (not in the sum). */
  openWithSinkUs: number;
  /**
   * keywarden's whole `createOrder` against an exchange that answers at once (no ccxt, no
   * network): order validation, owner lookup, risk check, kill-switch check, the intent entry,
   * credential open, instance checkout, the result entry; exchange I/O excluded by construction.
   */
  instantOrderUs: number;
  /** The same, with the vault recording `vault.grant.used` into the same log (three appends). */
  instantOrderWithSinkUs: number;
}

/**
 * An exchange that answers at once: what keywarden's `createOrder` costs when the exchange costs
 * nothing. `fetchTicker` serves the risk check's last price.
 */
function instantExchange(): ExchangeLike {
  let next = 0;
  const markets = { "BTC/USDT": { id: "BTCUSDT", symbol: "BTC/USDT" } };
  return {
    markets,
    loadMarkets: async () => markets,
    fetchTicker: async (symbol: string) => ({ symbol, last: 50_000 }),
    createOrder: async (
      symbol: string,
      type: string,
      side: string,
      amount: number,
      price?: number,
    ) => ({ id: String(++next), symbol, type, side, amount, price, status: "open" }) as OrderLike,
  } as unknown as ExchangeLike;
}

export async function measureTradingOverhead(orders = 300): Promise<TradingOverheadReport> {
  const sim = await startExchangeSimulator();
  try {
    const apiKey = "bench-key";
    const secret = randomBytes(24).toString("hex");
    sim.setKey("binance", {
      apiKey,
      secret,
      permissions: { read: true, trade: true },
      balances: { USDT: "1000000000", BTC: "1000" },
    });
    const Binance = await loadCcxtExchange("binance");
    const transport = sim.ccxtOptions("binance");

    // 1. Constructing one ccxt instance (what a naive per-call design would pay).
    const constructionUs = await cpuPerCall(40, () => new Binance({ ...transport }), 5);

    // 1b. Signing one private order request (the floor ccxt itself pays per order).
    const signer = new Binance({ apiKey: "k".repeat(64), secret: "s".repeat(64) }) as unknown as {
      sign(path: string, api: string, method: string, params: object): unknown;
    };
    const signUs = await cpuPerCall(
      2000,
      () => signer.sign("order", "private", "POST", { ...SIGNED_ORDER_PARAMS }),
      2000,
    );

    // 2. A raw, warm ccxt call: credentials already on the instance, markets loaded.
    const raw = new Binance({
      ...transport,
      apiKey,
      secret,
      enableRateLimit: false,
    }) as unknown as ExchangeLike;
    await raw.loadMarkets();
    const rawOrderUs = await cpuPerCall(orders, (i) =>
      raw.createOrder("BTC/USDT", "limit", "buy", 0.001, 50_000 + (i % 100)),
    );

    // 3. The same order through keywarden.
    const idp = await makeIdp();
    const vault = createVault({
      kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
      store: new MemoryCredentialStore(),
    });
    const auditStore = createMemoryAuditStore();
    const audit = new AuditLog({ store: auditStore });
    const state = createMemoryTradingState();
    const trading = createTradingClient({
      vault,
      audit,
      state,
      exchanges: ccxtExchangeFactory({ config: () => ({ ...transport, enableRateLimit: false }) }),
    });
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { apiKey, secret },
    });
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 3_600_000,
    });
    const handle = trading.handle(credentialId);
    const keywardenOrderUs = await cpuPerCall(orders, (i) =>
      runAs(grant, () => handle.createOrder("BTC/USDT", "limit", "buy", 0.001, 50_000 + (i % 100))),
    );

    // 4. The same order path against an exchange that answers at once, so that everything
    //    measured is keywarden's: with a vault that has no audit sink (two appends per order) and
    //    with one that records `vault.grant.used` into the same log (three appends per order).
    const n = 2000;
    const risk = { symbols: ["BTC/USDT"], maxNotional: "1000000", priceBand: 0.5 };
    const instantOrder = async (withSink: boolean) => {
      const log = new AuditLog({ store: createMemoryAuditStore() });
      const v = createVault({
        kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
        store: new MemoryCredentialStore(),
        ...(withSink ? { audit: auditSink(log) } : {}),
      });
      const client = createTradingClient({
        vault: v,
        audit: log,
        state: createMemoryTradingState(),
        exchanges: instantExchange,
        risk,
      });
      const s = await idp.session("alice");
      const { credentialId: id } = await v.store(s, {
        exchange: "binance",
        credentials: { apiKey, secret },
      });
      const { grant: g } = await v.createGrant(s, {
        exchanges: ["binance"],
        actions: ["trade"],
        ttlMs: 3_600_000,
      });
      const h = client.handle(id);
      return cpuPerCall(
        n,
        (i) => runAs(g, () => h.createOrder("BTC/USDT", "limit", "buy", 0.001, 50_000 + (i % 100))),
        n,
      );
    };
    const instantOrderUs = await instantOrder(false);
    const instantOrderWithSinkUs = await instantOrder(true);

    // 5. Stage by stage, without the network.
    const sinkVault = createVault({
      kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
      store: new MemoryCredentialStore(),
      audit: auditSink(new AuditLog({ store: createMemoryAuditStore() })),
    });
    const bob = await idp.session("alice");
    const { credentialId: sinkCredential } = await sinkVault.store(bob, {
      exchange: "binance",
      credentials: { apiKey, secret },
    });
    const { grant: sinkGrant } = await sinkVault.createGrant(bob, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 3_600_000,
    });
    const host = hostIdentity("alice");
    const stages: Record<string, number> = {
      "guard (owner lookup: one row by id, owner-scoped)": await cpuPerCall(
        n,
        () => vault.describeCredential(grant, credentialId),
        n,
      ),
      "kill-switch check": await cpuPerCall(n, () => state.get("alice"), n),
      "intent + result audit entries (memory store)": await cpuPerCall(
        n / 2,
        () =>
          runAs(host, async () => {
            const payload = {
              exchange: "binance",
              symbol: "BTC/USDT",
              side: "buy",
              type: "limit",
              amount: "0.001",
              price: "50000",
              clientOrderId: "kw1",
            };
            await audit.appendEntry("user:alice", { action: "order.intent", payload });
            await audit.appendEntry("user:alice", {
              action: "order.placed",
              payload: { ...payload, orderId: "1" },
            });
          }),
        n,
      ),
      "credential open (LocalKms, grant; vault without audit sink)": await cpuPerCall(
        n,
        () => vault.withCredentials(grant, credentialId, async () => 1, { action: "trade" }),
        n,
      ),
    };
    // Not in the sum (it would count the open twice): the open again, with the vault recording
    // `vault.grant.used` (the third append per order of a vault with an audit sink).
    const openWithSinkUs = await cpuPerCall(
      n,
      () =>
        sinkVault.withCredentials(sinkGrant, sinkCredential, async () => 1, { action: "trade" }),
      n,
    );
    const pool = new InstancePool(() => new Binance({ ...transport }) as unknown as ExchangeLike);
    await pool.withInstance("binance", async () => 1);
    stages["instance checkout and clearing"] = await cpuPerCall(
      n,
      () =>
        pool.withInstance("binance", async (x) => {
          x.apiKey = apiKey;
          x.secret = secret;
        }),
      n,
    );

    const addedUs = keywardenOrderUs - rawOrderUs;
    return {
      constructionUs,
      signUs,
      stagesUs: Object.values(stages).reduce((a, b) => a + b, 0),
      rawOrderUs,
      keywardenOrderUs,
      addedUs,
      ratio: addedUs / constructionUs,
      target: 0.1,
      stages,
      openWithSinkUs,
      instantOrderUs,
      instantOrderWithSinkUs,
    };
  } finally {
    await sim.close();
  }
}

export function formatReport(r: TradingOverheadReport): string {
  const ms = (us: number) => `${(us / 1000).toFixed(3)} ms`;
  const verdict = (x: number, t: number) =>
    `${x.toFixed(2)}  (target <= ${t}: ${x <= t ? "met" : "MISSED"})`;
  const lines = [
    "trading: keywarden's CPU per order vs one ccxt construction and one ccxt signing (same run)",
    `  ccxt instance construction      ${ms(r.constructionUs)}`,
    `  ccxt sign() of a private order  ${ms(r.signUs)}`,
    `  raw ccxt createOrder (warm)     ${ms(r.rawOrderUs)}`,
    `  keywarden createOrder           ${ms(r.keywardenOrderUs)}`,
    `  added by keywarden              ${ms(r.addedUs)}`,
    `  added / construction            ${verdict(r.ratio, 0.1)}`,
    `  added / signing                 ${verdict(r.addedUs / r.signUs, 1)}`,
    `  stages (sum) / construction     ${verdict(r.stagesUs / r.constructionUs, 0.1)}`,
    `  stages (sum) / signing          ${verdict(r.stagesUs / r.signUs, 1)}`,
    `  createOrder, instant exchange    ${ms(r.instantOrderUs)} (two appends: intent, result)`,
    `    / signing                      ${verdict(r.instantOrderUs / r.signUs, 1)}`,
    `  the same, vault audit sink      ${ms(r.instantOrderWithSinkUs)} (three: + vault.grant.used)`,
    `    / signing                      ${verdict(r.instantOrderWithSinkUs / r.signUs, 1)}`,
    "  by stage (measured alone, without the network):",
    ...Object.entries(r.stages).map(([k, v]) => `    ${k.padEnd(52)} ${ms(v)}`),
    `    ${"(not summed) credential open, vault with audit sink".padEnd(52)} ${ms(r.openWithSinkUs)}`,
    `    ${"not attributed to a stage (scheduling, GC, ccxt params)".padEnd(52)} ${ms(
      r.addedUs - Object.values(r.stages).reduce((a, b) => a + b, 0),
    )}`,
  ];
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await measureTradingOverhead();
  process.stdout.write(`${formatReport(report)}\n`);
}
