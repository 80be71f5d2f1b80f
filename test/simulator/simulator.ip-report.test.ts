import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExchangeSimulator,
  type SimulatedExchangeId,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { loadExchangeClass, testCredentials } from "./ccxt-classes.js";
import { invoke, PERMISSION_CALLS } from "./permission-calls.js";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});
const first = (v: unknown): Json => obj(Array.isArray(v) ? v[0] : undefined);

/** Where each exchange reports the allow-list, read from the documented shape. */
const REPORTED_IPS: Partial<Record<SimulatedExchangeId, (r: unknown) => unknown>> = {
  binance: (r) => obj(r).ipRestrict,
  bybit: (r) => obj(obj(r).result).ips,
  okx: (r) => first(obj(r).data).ip,
  kucoin: (r) => obj(obj(r).data).ipWhitelist,
  kraken: (r) => obj(obj(r).result).ipAllowlist,
  bitget: (r) => obj(obj(r).data).ips,
  bingx: (r) => obj(obj(r).data).ipAddresses,
  htx: (r) => first(obj(r).data).ipAddresses,
  gate: (r) => first(r).ip_whitelist,
  deribit: (r) => first(obj(r).result).ip_whitelist,
};

const IPS = ["203.0.113.7", "198.51.100.24"];
const EXPECTED: Partial<Record<SimulatedExchangeId, { restricted: unknown; open: unknown }>> = {
  binance: { restricted: true, open: false },
  bybit: { restricted: IPS, open: ["*"] },
  okx: { restricted: IPS.join(","), open: "" },
  kucoin: { restricted: "203.**.7,198.**.24", open: "" },
  kraken: { restricted: IPS, open: [] },
  bitget: { restricted: IPS.join(","), open: "" },
  bingx: { restricted: IPS, open: [] },
  htx: { restricted: IPS.join(","), open: "" },
  gate: { restricted: IPS, open: [] },
  deribit: { restricted: IPS, open: [] },
};

/** Simulated exchanges whose permission answer has no allow-list field at all, and why. */
const NO_IP_FIELD: Partial<Record<SimulatedExchangeId, string>> = {
  lbank: "api_Restrictions.do documents permission flags only, no IP list",
  hyperliquid: "a wallet key has no IP allow-list; userRole answers the role only",
};

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe.each(Object.keys(REPORTED_IPS) as SimulatedExchangeId[])(
  "%s reports the allow-list",
  (id) => {
    it("in its documented field, for restricted and unrestricted keys", async () => {
      const read = REPORTED_IPS[id] as (r: unknown) => unknown;
      const Exchange = await loadExchangeClass(id);
      for (const [ipAllowList, expected] of [
        [IPS, EXPECTED[id]?.restricted],
        [[], EXPECTED[id]?.open],
      ] as const) {
        const c = testCredentials(id, "ip");
        sim.setKey(id, {
          apiKey: c.apiKey,
          secret: c.secret,
          ...(c.password === undefined ? {} : { passphrase: c.password }),
          permissions: { read: true, ipAllowList: [...ipAllowList] },
        });
        const ex = new Exchange({ ...c, enableRateLimit: false, ...sim.ccxtOptions(id) });
        expect(read(await PERMISSION_CALLS[id].call(ex, c))).toEqual(expected);
      }
    });
  },
);

describe.each(Object.keys(NO_IP_FIELD) as SimulatedExchangeId[])(
  "%s has no allow-list to report",
  (id) => {
    it(`its answer carries none of a key's allow-list (${NO_IP_FIELD[id]})`, async () => {
      const Exchange = await loadExchangeClass(id);
      const c = testCredentials(id, "noip");
      sim.setKey(id, {
        apiKey: c.apiKey,
        secret: c.secret,
        permissions: { read: true, trade: true, ipAllowList: [...IPS] },
      });
      const ex = new Exchange({ ...c, enableRateLimit: false, ...sim.ccxtOptions(id) });
      const answer = JSON.stringify(await PERMISSION_CALLS[id].call(ex, c));
      for (const ip of IPS) expect(answer).not.toContain(ip);
      expect(REPORTED_IPS[id]).toBeUndefined();
    });
  },
);

describe("gate account detail", () => {
  it("reports the allow-list and nothing about permissions", async () => {
    const c = testCredentials("gate", "detail");
    sim.setKey("gate", {
      apiKey: c.apiKey,
      secret: c.secret,
      uid: "4242",
      permissions: { ipAllowList: IPS },
    });
    const Gate = await loadExchangeClass("gate");
    const detail = await invoke(
      new Gate({ ...c, enableRateLimit: false, ...sim.ccxtOptions("gate") }),
      "privateAccountGetDetail",
    );
    expect(detail).toEqual({
      user_id: 4242,
      ip_whitelist: IPS,
      currency_pairs: [],
      key: { mode: 1 },
      tier: 0,
    });
  });
});
