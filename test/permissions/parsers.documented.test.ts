import { describe, expect, it } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import type { DetectionResult, ExchangeId, KeyPermissions } from "../../src/permissions/types.js";
import * as doc from "./fixtures/documented.js";

const KEY = { apiKey: "4ba5cdf2-4a92c5da-718ba144-dbuqg6hkte" };
const parse = (id: ExchangeId, ...answers: unknown[]): DetectionResult =>
  EXCHANGE_SPECS[id].parse(answers, KEY);
const perms = (r: DetectionResult): KeyPermissions => {
  if (!r.ok) throw new Error(`expected permissions, got ${r.findings.map((f) => f.code)}`);
  return r.permissions;
};
const codes = (r: DetectionResult) => (r.ok ? [] : r.findings.map((f) => f.code));
const clone = <T>(v: T): T => structuredClone(v);
const first = <T>(list: T[]): T => {
  const item = list[0];
  if (item === undefined) throw new Error("empty fixture list");
  return item;
};

describe("documented samples", () => {
  it("binance: docs sample reads as read + trade, no withdraw, no transfer, not IP-bound", () => {
    const p = perms(parse("binance", doc.binanceSample));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: false, transfer: false });
    expect(p.ipRestricted).toBe(false);
    expect(p.evidence.enableWithdrawals).toBe(false);
  });
  it("binanceusdm parses the same endpoint", () => {
    expect(perms(parse("binanceusdm", doc.binanceSample)).exchange).toBe("binanceusdm");
  });
  it("bybit: docs sample has no trade permission, AccountTransfer only (which may add transfer rights to itself), IP unbound", () => {
    const p = perms(parse("bybit", doc.bybitSample));
    expect(p).toMatchObject({ read: true, trade: false, withdraw: false, transfer: true });
    expect(p.ipRestricted).toBe(false);
  });
  it("okx: docs sample has withdraw", () => {
    const p = perms(parse("okx", doc.okxSample));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: true, ipRestricted: false });
  });
  it("kucoin: docs sample has Transfer (withdraw) and InnerTransfer; list is masked", () => {
    const p = perms(parse("kucoin", doc.kucoinSample));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: true, transfer: true });
    expect(p.ipRestricted).toBe(true);
    expect(p.ipAllowList).toBeUndefined();
  });
  it("coinbase: schema sample can view and trade, no transfer, IP unknown", () => {
    const p = perms(parse("coinbase", doc.coinbaseSample));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: false, ipRestricted: "unknown" });
  });
  it("kraken: docs sample has withdraw-funds", () => {
    const p = perms(parse("kraken", doc.krakenSample));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: true, ipRestricted: false });
  });
  it("bitget: docs sample (legacy tokens) is read + trade, bound to 127.0.0.1", () => {
    const p = perms(parse("bitget", doc.bitgetSample));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: false, ipRestricted: true });
    expect(p.ipAllowList).toEqual(["127.0.0.1"]);
  });
  it("htx: docs sample is readOnly,trade with two IPs", () => {
    const p = perms(parse("htx", { code: 200, data: 62924133 }, doc.htxSample));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: false, ipRestricted: true });
    expect(p.ipAllowList).toEqual(["1.1.1.1", "1.1.1.2"]);
  });
  it("bitfinex: schema sample trades, cannot withdraw", () => {
    const p = perms(parse("bitfinex", doc.bitfinexSample));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: false, transfer: false });
  });
  it("gemini: schema sample is a trader without fund management", () => {
    expect(perms(parse("gemini", doc.geminiSample))).toMatchObject({
      trade: true,
      withdraw: false,
    });
  });
  it("deribit: documented public/auth scope leaves withdraw unknown", () => {
    expect(perms(parse("deribit", doc.deribitAuthSample)).withdraw).toBe("unknown");
  });
  it("bingx: the documented code table reads [1, 2] as trade without withdraw or transfer", () => {
    expect(perms(parse("bingx", doc.bingxSample))).toMatchObject({
      read: true,
      trade: true,
      withdraw: false,
      transfer: false,
    });
  });
  it("gate: the detail answer leaves every permission unknown", () => {
    const p = perms(parse("gate", { user_id: 1, ip_whitelist: ["1.2.3.4"], currency_pairs: [] }));
    expect(p).toMatchObject({ trade: "unknown", withdraw: "unknown", ipRestricted: true });
  });
  it("gate: the constructed main_keys sample is not the detail shape and is malformed", () => {
    expect(codes(parse("gate", doc.gateMainKeysSample))).toEqual(["MALFORMED_RESPONSE"]);
  });
  it("bitstamp: always unsupported", () => {
    expect(codes(parse("bitstamp", {}))).toEqual(["UNSUPPORTED"]);
  });
});

describe("variants: withdraw on and off", () => {
  it("binance enableWithdrawals true → withdraw", () => {
    const on = { ...doc.binanceSample, enableWithdrawals: true, ipRestrict: true };
    expect(perms(parse("binance", on)).withdraw).toBe(true);
  });
  it("binance universal and internal transfer → transfer", () => {
    expect(
      perms(parse("binance", { ...doc.binanceSample, permitsUniversalTransfer: true })).transfer,
    ).toBe(true);
    expect(
      perms(parse("binance", { ...doc.binanceSample, enableInternalTransfer: true })).transfer,
    ).toBe(true);
  });
  it("bybit Wallet Withdraw → withdraw; SubMemberTransfer → transfer", () => {
    const s = clone(doc.bybitSample);
    s.result.permissions.Wallet = ["AccountTransfer", "Withdraw", "SubMemberTransfer"];
    expect(perms(parse("bybit", s))).toMatchObject({ withdraw: true, transfer: true });
  });
  it("bybit P2P and Bybit Pay tokens (key-information table) → transfer; fiat convert broker → unknown", () => {
    const withList = (cat: string, list: string[]) => {
      const s = clone(doc.bybitSample);
      // Without the sample's AccountTransfer (itself a transfer right), to see the category alone.
      (s.result.permissions as Record<string, string[]>).Wallet = [];
      (s.result.permissions as Record<string, string[]>)[cat] = list;
      return perms(parse("bybit", s));
    };
    expect(withList("FiatP2P", ["FiatP2POrder"])).toMatchObject({
      transfer: true,
      unknownTokens: [],
    });
    expect(withList("FiatP2P", ["Advertising"])).toMatchObject({
      transfer: true,
      unknownTokens: [],
    });
    expect(withList("FiatBybitPay", ["FaitPayOrder"])).toMatchObject({
      transfer: true,
      unknownTokens: [],
    });
    expect(withList("FiatBitPay", ["FaitPayOrder"])).toMatchObject({
      transfer: true,
      unknownTokens: [],
    });
    expect(withList("FiatConvertBroker", ["FiatConvertBrokerOrder"])).toMatchObject({
      withdraw: "unknown",
      transfer: "unknown",
      unknownTokens: [],
    });
    // Empty lists (a sub-account key, per the table) change nothing.
    expect(withList("FiatP2P", []).transfer).toBe(false);
    // Undocumented newer categories stay unknown tokens.
    expect(withList("BitCard", ["BitCard"]).unknownTokens).toEqual(["BitCard:BitCard"]);
  });
  it("okx without withdraw → false", () => {
    const s = clone(doc.okxSample);
    first(s.data).perm = "read_only,trade";
    first(s.data).ip = "1.2.3.4,5.6.7.8";
    expect(perms(parse("okx", s))).toMatchObject({
      withdraw: false,
      ipAllowList: ["1.2.3.4", "5.6.7.8"],
    });
  });
  it("kucoin General,Spot → no withdraw", () => {
    const s = clone(doc.kucoinSample);
    s.data.permission = "General,Spot";
    expect(perms(parse("kucoin", s))).toMatchObject({
      trade: true,
      withdraw: false,
      transfer: false,
    });
  });
  it("coinbase can_transfer → withdraw and transfer", () => {
    expect(perms(parse("coinbase", { ...doc.coinbaseSample, can_transfer: true }))).toMatchObject({
      withdraw: true,
      transfer: true,
    });
  });
  it("kraken: the response schema's read and trade strings are known, nothing moves funds", () => {
    const s = clone(doc.krakenSample);
    s.result.permissions = [
      "query-funds",
      "query-open-trades",
      "query-closed-trades",
      "query-ledger",
      "export-data",
      "create-ws-token",
      "modify-trades",
      "close-trades",
      "add-funds",
      "earn-funds",
    ];
    const p = perms(parse("kraken", s));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: false, transfer: false });
    expect(p.unknownTokens).toEqual([]);
  });
  it.each(["add-withdraw-address", "update-withdraw-address"])(
    "kraken %s → withdraw and transfer unknown, read stays known",
    (token) => {
      const s = clone(doc.krakenSample);
      s.result.permissions = ["query-funds", token];
      const p = perms(parse("kraken", s));
      expect(p).toMatchObject({
        read: true,
        trade: false,
        withdraw: "unknown",
        transfer: "unknown",
      });
      expect(p.unknownTokens).toEqual([]);
    },
  );
  it("kraken: a string outside the table is still an unknown token", () => {
    const s = clone(doc.krakenSample);
    s.result.permissions = ["query-funds", "transfer-funds"];
    const p = perms(parse("kraken", s));
    expect(p.unknownTokens).toEqual(["transfer-funds"]);
    expect(p.withdraw).toBe("unknown");
  });
  it("kucoin Unified (not in the introduction's list) → trade, withdraw and transfer unknown", () => {
    const s = clone(doc.kucoinSample);
    s.data.permission = "General,Unified";
    const p = perms(parse("kucoin", s));
    expect(p).toMatchObject({ read: true, trade: true, withdraw: "unknown", transfer: "unknown" });
    expect(p.unknownTokens).toEqual([]);
  });
  it("kucoin General,Spot,Margin,Futures,Earn → nothing moves funds", () => {
    const s = clone(doc.kucoinSample);
    s.data.permission = "General,Spot,Margin,Futures,Earn";
    expect(perms(parse("kucoin", s))).toMatchObject({ withdraw: false, transfer: false });
  });
  it("kraken without withdraw-funds → false", () => {
    const s = clone(doc.krakenSample);
    s.result.permissions = ["query-funds", "modify-trades"];
    expect(perms(parse("kraken", s)).withdraw).toBe(false);
  });
  it("bitget wwow → withdraw", () => {
    const s = clone(doc.bitgetSample);
    s.data.authorities = ["stow", "wwow"];
    expect(perms(parse("bitget", s)).withdraw).toBe(true);
  });
  it("htx withdraw token → withdraw", () => {
    const s = clone(doc.htxSample);
    first(s.data).permission = "readOnly,trade,withdraw";
    expect(perms(parse("htx", { code: 200, data: 1 }, s)).withdraw).toBe(true);
  });
  it("bitfinex withdraw or ui_withdraw write → withdraw", () => {
    for (const scope of ["withdraw", "ui_withdraw"]) {
      const rows = doc.bitfinexSample.map((r) => (r[0] === scope ? [scope, 1, 1] : r));
      expect(perms(parse("bitfinex", rows)).withdraw).toBe(true);
    }
  });
  it("gemini fund manager → withdraw", () => {
    expect(perms(parse("gemini", { ...doc.geminiSample, isFundManager: true })).withdraw).toBe(
      true,
    );
  });
  it("bingx permission 5 → withdraw", () => {
    const s = clone(doc.bingxSample);
    s.data.permissions = [1, 2, 5];
    expect(perms(parse("bingx", s)).withdraw).toBe(true);
  });
  it("deribit wallet:read_write scope → withdraw", () => {
    const s = clone(doc.deribitAuthSample);
    s.result.scope = "connection wallet:read_write trade:read_write";
    expect(perms(parse("deribit", s)).withdraw).toBe(true);
  });
  it("mexc probe: canWithdraw true → withdraw, false → unknown", () => {
    expect(perms(parse("mexc", { canTrade: true, canWithdraw: true, balances: [] })).withdraw).toBe(
      true,
    );
    expect(
      perms(parse("mexc", { canTrade: true, canWithdraw: false, balances: [] })).withdraw,
    ).toBe("unknown");
  });
  it("cryptocom probe: an answered withdrawal history → withdraw", () => {
    expect(
      perms(parse("cryptocom", { id: 1, code: 0, result: { withdrawal_list: [] } })).withdraw,
    ).toBe(true);
  });
});

describe("variants: unknown tokens make the verdict unknown", () => {
  it.each<[ExchangeId, unknown]>([
    ["binance", { ...doc.binanceSample, enableSomethingNew: true }],
    [
      "bybit",
      {
        ...doc.bybitSample,
        result: {
          ...doc.bybitSample.result,
          permissions: { ...doc.bybitSample.result.permissions, Wallet: ["Teleport"] },
        },
      },
    ],
    [
      "okx",
      { ...doc.okxSample, data: [{ ...doc.okxSample.data[0], perm: "read_only,trade,teleport" }] },
    ],
    [
      "kucoin",
      {
        ...doc.kucoinSample,
        data: { ...doc.kucoinSample.data, permission: "General,Spot,Teleport" },
      },
    ],
    ["coinbase", { ...doc.coinbaseSample, can_teleport: true }],
    [
      "kraken",
      {
        ...doc.krakenSample,
        result: {
          ...doc.krakenSample.result,
          permissions: ["query-funds", "modify-trades", "teleport-funds"],
        },
      },
    ],
    [
      "bitget",
      { ...doc.bitgetSample, data: { ...doc.bitgetSample.data, authorities: ["stow", "zzow"] } },
    ],
    ["bitfinex", [...doc.bitfinexSample, ["teleport", 0, 0]]],
    ["gemini", { ...doc.geminiSample, isTeleporter: true }],
  ])("%s", (id, body) => {
    const p = perms(parse(id, body));
    expect(p.unknownTokens.length).toBeGreaterThan(0);
    expect([p.withdraw, p.transfer]).toContain("unknown");
  });
  it("htx", () => {
    const s = clone(doc.htxSample);
    first(s.data).permission = "readOnly,trade,moveFunds";
    expect(perms(parse("htx", { code: 200, data: 1 }, s)).withdraw).toBe("unknown");
  });
});

describe("variants: a missing withdraw field makes withdraw unknown", () => {
  it.each<[ExchangeId, unknown]>([
    ["binance", (({ enableWithdrawals: _, ...rest }) => rest)(doc.binanceSample)],
    [
      "bybit",
      {
        ...doc.bybitSample,
        result: { ...doc.bybitSample.result, permissions: { Spot: ["SpotTrade"] } },
      },
    ],
    ["okx", { ...doc.okxSample, data: [{ uid: "1", ip: "" }] }],
    ["kucoin", { ...doc.kucoinSample, data: { isMaster: true } }],
    ["coinbase", { can_view: true, can_trade: true }],
    ["kraken", { error: [], result: { ipAllowlist: [] } }],
    ["bitget", { ...doc.bitgetSample, data: { ips: "" } }],
    ["bitfinex", doc.bitfinexSample.filter((r) => r[0] !== "withdraw")],
    ["gemini", { isAuditor: false, isTrader: true }],
  ])("%s", (id, body) => {
    expect(perms(parse(id, body)).withdraw).toBe("unknown");
  });
});

describe("variants: error bodies and success flags", () => {
  it.each<[ExchangeId, unknown, string]>([
    ["binance", doc.errorBodies.binance, "INVALID_KEY"],
    ["bybit", doc.errorBodies.bybitDenied, "PERMISSION_DENIED"],
    ["bybit", doc.errorBodies.bybitIp, "IP_NOT_ALLOWED"],
    ["okx", doc.errorBodies.okxIp, "IP_NOT_ALLOWED"],
    ["kucoin", doc.errorBodies.kucoin, "PERMISSION_DENIED"],
    ["coinbase", doc.errorBodies.coinbase, "PERMISSION_DENIED"],
    ["kraken", doc.errorBodies.kraken, "PERMISSION_DENIED"],
    ["bitget", doc.errorBodies.bitget, "PERMISSION_DENIED"],
    ["gate", doc.errorBodies.gate, "PERMISSION_DENIED"],
    ["bitfinex", doc.errorBodies.bitfinex, "INVALID_KEY"],
    ["gemini", doc.errorBodies.gemini, "PERMISSION_DENIED"],
    ["deribit", doc.errorBodies.deribit, "PERMISSION_DENIED"],
    ["mexc", doc.errorBodies.mexc, "PERMISSION_DENIED"],
    ["cryptocom", doc.errorBodies.cryptocom, "PERMISSION_DENIED"],
    ["bingx", doc.errorBodies.bingx, "IP_NOT_ALLOWED"],
  ])("%s error body → %s", (id, body, code) => {
    expect(codes(parse(id, body))).toEqual([code]);
    expect(EXCHANGE_SPECS[id].classifyError(body)?.code).toBe(code);
  });
  it("htx: v2 error code 2002 (which ccxt returns without throwing) → PERMISSION_DENIED", () => {
    expect(codes(parse("htx", { code: 200, data: 1 }, doc.errorBodies.htxV2))).toEqual([
      "PERMISSION_DENIED",
    ]);
    expect(codes(parse("htx", { code: 200, data: 1 }, doc.errorBodies.htxV1))).toEqual([
      "INVALID_KEY",
    ]);
  });
  it.each<[ExchangeId, unknown]>([
    ["bybit", { ...doc.bybitSample, retCode: 12345 }],
    ["okx", { ...doc.okxSample, code: "1" }],
    ["kucoin", { ...doc.kucoinSample, code: "200001" }],
    ["kraken", { ...doc.krakenSample, error: ["EService:Unavailable"] }],
    ["bitget", { ...doc.bitgetSample, code: "00001" }],
    ["bingx", { ...doc.bingxSample, code: 1 }],
    ["binance", { ...doc.binanceSample, code: -1000 }],
    ["coinbase", { ...doc.coinbaseSample, error: "INTERNAL" }],
  ])("%s: success flag false, even with a valid payload → EXCHANGE_ERROR", (id, body) => {
    expect(codes(parse(id, body))).toEqual(["EXCHANGE_ERROR"]);
  });
  it("htx: success code other than 200 with a valid payload → rejected", () => {
    expect(parse("htx", { code: 200, data: 1 }, { ...doc.htxSample, code: 500 }).ok).toBe(false);
  });
  it("htx: a list without the calling key → MALFORMED_RESPONSE", () => {
    expect(
      EXCHANGE_SPECS.htx.parse([{ code: 200, data: 1 }, doc.htxSample], { apiKey: "other" }).ok,
    ).toBe(false);
  });
  it("htx: an expired key → INVALID_KEY", () => {
    const s = clone(doc.htxSample);
    first(s.data).status = "expired";
    expect(codes(parse("htx", { code: 200, data: 1 }, s))).toEqual(["INVALID_KEY"]);
  });
});

describe("preconditions", () => {
  it("a Binance body carrying a numeric `code` is an error, whatever else it holds.", () => {
    expect(parse("binance", { ...doc.binanceSample, code: -2015 }).ok).toBe(false);
  });
  it("Bybit answers are read only when retCode is 0.", () => {
    expect(parse("bybit", { ...doc.bybitSample, retCode: 10005 }).ok).toBe(false);
  });
  it('OKX answers are read only when code is "0".', () => {
    expect(parse("okx", { ...doc.okxSample, code: 0 }).ok).toBe(false);
  });
  it('KuCoin answers are read only when code is "200000".', () => {
    expect(parse("kucoin", { ...doc.kucoinSample, code: 200000 }).ok).toBe(false);
  });
  it("Kraken answers are read only when the error array is empty.", () => {
    expect(parse("kraken", { ...doc.krakenSample, error: ["EAPI:Invalid key"] }).ok).toBe(false);
  });
  it('Bitget answers are read only when code is "00000".', () => {
    expect(parse("bitget", { ...doc.bitgetSample, code: "40014" }).ok).toBe(false);
  });
  it("BingX answers are read only when code is 0.", () => {
    expect(parse("bingx", { ...doc.bingxSample, code: "0" }).ok).toBe(false);
  });
  it("HTX answers are read only when code is 200.", () => {
    expect(parse("htx", { code: 200, data: 1 }, { ...doc.htxSample, code: "200" }).ok).toBe(false);
  });
  it("a Coinbase body carrying an `error` field is an error, whatever else it holds.", () => {
    expect(parse("coinbase", { ...doc.coinbaseSample, error: "PERMISSION_DENIED" }).ok).toBe(false);
  });
  it('a Gemini body with result "error" is an error, whatever else it holds.', () => {
    expect(parse("gemini", { ...doc.geminiSample, result: "error" }).ok).toBe(false);
  });
  it("a Gate body carrying a `label` is an error, whatever else it holds.", () => {
    expect(parse("gate", { ip_whitelist: [], label: "INVALID_KEY" }).ok).toBe(false);
  });
  it('a Bitfinex ["error", code, message] body is an error.', () => {
    expect(parse("bitfinex", ["error", 10100, "apikey: invalid"]).ok).toBe(false);
  });
  it("a missing enableWithdrawals field makes withdraw unknown.", () => {
    const { enableWithdrawals: _, ...rest } = doc.binanceSample;
    expect(perms(parse("binance", rest)).withdraw).toBe("unknown");
  });
  it("a Binance key with spot trading on reads transfer as unknown unless a transfer flag is on.", () => {
    // Transfer to Master / to Sub-account of Same Master (For Sub-account) need only Enable Spot &
    // Margin Trading, and the answer does not say whether the key is a sub-account's.
    const spot = { ...doc.binanceSample, enableSpotAndMarginTrading: true };
    expect(perms(parse("binance", spot))).toMatchObject({ trade: true, transfer: "unknown" });
    expect(perms(parse("binance", { ...spot, enableInternalTransfer: true })).transfer).toBe(true);
    // The documented sample (portfolio-margin trading, spot off) still reads transfer false.
    expect(perms(parse("binance", doc.binanceSample)).transfer).toBe(false);
  });
  it("a missing withdraw scope makes withdraw unknown.", () => {
    const rows = doc.bitfinexSample.filter((r) => r[0] !== "ui_withdraw");
    expect(perms(parse("bitfinex", rows)).withdraw).toBe("unknown");
  });
  it("an unconfirmed parser never reports withdraw as false.", () => {
    for (const [id, body] of [
      ["deribit", doc.deribitAuthSample],
      ["mexc", { canTrade: true, canWithdraw: false }],
    ] as const) {
      expect(perms(parse(id, body)).withdraw).toBe("unknown");
    }
  });
  it("evidence never holds the api key or the secret field of the answer", () => {
    for (const [id, body] of [
      ["bybit", doc.bybitSample],
      ["kraken", doc.krakenSample],
      ["kucoin", doc.kucoinSample],
      ["htx", doc.htxSample],
    ] as const) {
      const answers = id === "htx" ? [{ code: 200, data: 1 }, body] : [body];
      const text = JSON.stringify(EXCHANGE_SPECS[id].parse(answers, KEY));
      expect(text).not.toContain("opjSlSOzqIeXROT5rq");
      expect(text).not.toContain("4/SDrDBcOOPnm3nPlNfEMMJDeRcIVqPz");
      expect(text).not.toContain("6705f5c311545b000157d3eb");
      expect(text).not.toContain(KEY.apiKey);
    }
  });
});
