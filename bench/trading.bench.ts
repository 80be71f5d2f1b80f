/**
 * Trading overhead, same run. The vitest group compares keywarden's per-order stages (run without
 * the network) with its two floors: constructing one ccxt instance (issue 21's target: the stages
 * cost at most 0.1x, i.e. run >= 10x faster) and one ccxt `sign()` of a private order request
 * (target: at most 1x). The end-to-end figure (keywarden's order minus a raw warm ccxt order, both
 * against the simulator) is printed first, with the settings.
 */
import { randomBytes } from "node:crypto";
import { afterAll, bench, describe } from "vitest";
import { AuditLog } from "../src/audit/core/log.js";
import { createMemoryAuditStore } from "../src/audit/storage/memory.js";
import { loadCcxtExchange } from "../src/ccxt-loader.js";
import { runAs } from "../src/guard/context.js";
import { hostIdentity } from "../src/guard/identity.js";
import { startExchangeSimulator } from "../src/permissions/testing/index.js";
import { Secret } from "../src/secret.js";
import type { ExchangeLike } from "../src/trading/exchange-like.js";
import { InstancePool } from "../src/trading/pool.js";
import { createMemoryTradingState } from "../src/trading/state.js";
import { createVault } from "../src/vault/core/vault.js";
import { LocalKms } from "../src/vault/kms/local.js";
import { MemoryCredentialStore } from "../src/vault/stores/memory.js";
import { makeIdp } from "../test/vault/helpers.js";
import { settingsLine } from "./floors.js";
import { formatReport, measureTradingOverhead, SIGNED_ORDER_PARAMS } from "./trading-overhead.js";

const ORDERS = 200;
console.log(settingsLine("trading.bench.ts", { ordersEndToEnd: ORDERS, exchange: "binance" }));
console.log(formatReport(await measureTradingOverhead(ORDERS)));

const Binance = await loadCcxtExchange("binance");
const idp = await makeIdp();
const vault = createVault({
  kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
  store: new MemoryCredentialStore(),
});
const audit = new AuditLog({ store: createMemoryAuditStore() });
const state = createMemoryTradingState();
const alice = await idp.session("alice");
const { credentialId } = await vault.store(alice, {
  exchange: "binance",
  credentials: { apiKey: "k", secret: "s" },
});
const { grant } = await vault.createGrant(alice, {
  exchanges: ["binance"],
  actions: ["trade"],
  ttlMs: 3_600_000,
});
const sim = await startExchangeSimulator();
const transport = sim.ccxtOptions("binance");
const pool = new InstancePool(() => new Binance({ ...transport }) as unknown as ExchangeLike);
await pool.withInstance("binance", async () => 1);
const host = hostIdentity("alice");
const payload = {
  exchange: "binance",
  symbol: "BTC/USDT",
  side: "buy",
  type: "limit",
  amount: "0.001",
  price: "50000",
  clientOrderId: "kw1",
};

const signer = new Binance({ apiKey: "k".repeat(64), secret: "s".repeat(64) }) as unknown as {
  sign(path: string, api: string, method: string, params: object): unknown;
};

describe("per order: keywarden's added work vs one ccxt construction and one ccxt signing", () => {
  afterAll(() => sim.close());
  bench("floor: ccxt instance construction", () => {
    new Binance({});
  });
  bench("floor: ccxt sign() of a private order request (binance, dummy key)", () => {
    signer.sign("order", "private", "POST", { ...SIGNED_ORDER_PARAMS });
  });
  bench("keywarden stages: guard, kill switch, intent, open, checkout, result", async () => {
    await vault.list(grant);
    await state.get("alice");
    await runAs(host, () => audit.appendEntry("user:alice", { action: "order.intent", payload }));
    await vault.withCredentials(grant, credentialId, async () => 1, { action: "trade" });
    await pool.withInstance("binance", async (x) => {
      x.apiKey = "k";
    });
    await runAs(host, () =>
      audit.appendEntry("user:alice", {
        action: "order.placed",
        payload: { ...payload, orderId: "1" },
      }),
    );
  });
});
