import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExchangeSimulator,
  type SimulatedExchangeId,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { loadExchangeClass, testCredentials } from "./ccxt-classes.js";
import { PERMISSION_CALLS } from "./permission-calls.js";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Where a transfer (funds moved between accounts) permission shows in each documented shape. */
const REPORTS_TRANSFER: Partial<Record<SimulatedExchangeId, (r: unknown) => boolean>> = {
  binance: (r) =>
    obj(r).enableInternalTransfer === true && obj(r).permitsUniversalTransfer === true,
  bybit: (r) => list(obj(obj(obj(r).result).permissions).Wallet).includes("AccountTransfer"),
  kucoin: (r) =>
    String(obj(obj(r).data).permission)
      .split(",")
      .includes("InnerTransfer"),
  coinbase: (r) => obj(r).can_transfer === true,
  bitget: (r) => list(obj(obj(r).data).authorities).includes("wtow"),
  bitfinex: (r) => list(list(r).find((e) => list(e)[0] === "wallets"))[2] === 1,
  gemini: (r) => obj(r).isFundManager === true,
  bingx: (r) => list(obj(obj(r).data).permissions).includes(4),
  gate: (r) =>
    list(obj(list(r)[0]).perms).some((p) => obj(p).name === "wallet" && obj(p).read_only === false),
  deribit: (r) =>
    String(obj(list(obj(r).result)[0]).max_scope)
      .split(" ")
      .includes("account:read_write"),
  lbank: (r) => obj(obj(r).data).enableInternalTransfer === true,
  // Only an account's own key can transfer; the simulator answers it as role "user".
  hyperliquid: (r) => obj(r).role === "user",
};

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe.each(Object.keys(REPORTS_TRANSFER) as SimulatedExchangeId[])("%s", (id) => {
  it("reports a transfer permission exactly when the key has one", async () => {
    const reports = REPORTS_TRANSFER[id] as (r: unknown) => boolean;
    const Exchange = await loadExchangeClass(id);
    for (const transfer of [true, false]) {
      const c = testCredentials(id, "tr");
      sim.setKey(id, {
        apiKey: c.apiKey,
        secret: c.secret,
        ...(c.password === undefined ? {} : { passphrase: c.password }),
        permissions: { read: true, trade: true, withdraw: false, transfer },
      });
      const ex = new Exchange({ ...c, enableRateLimit: false, ...sim.ccxtOptions(id) });
      expect(reports(await PERMISSION_CALLS[id].call(ex, c))).toBe(transfer);
    }
  });
});
