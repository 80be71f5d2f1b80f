import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import { onboardKey } from "../../src/permissions/onboard.js";
import { decide } from "../../src/permissions/policy.js";
import {
  type ExchangeSimulator,
  type SimulatedExchangeId,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import type { DetectionResult, ExchangeId } from "../../src/permissions/types.js";
import { register, secrets, type TestKey, testKey } from "./support/credentials.js";
import { memoryAudit } from "./support/fake.js";

/** Exchanges whose parser is confirmed: they can accept a key. */
const CONFIRMED: SimulatedExchangeId[] = [
  "binance",
  "binanceusdm",
  "bybit",
  "okx",
  "kucoin",
  "coinbase",
  "kraken",
  "bitget",
  "bitfinex",
  "gemini",
  "htx",
];
const LOOSE_IP = { requireIpRestriction: false } as const;
const READ_ONLY = { read: true, trade: false, withdraw: false, transfer: false };
const TRADE = { read: true, trade: true, withdraw: false, transfer: false };
const WITHDRAW = { read: true, trade: true, withdraw: true, transfer: false };

let sim: ExchangeSimulator;
const cleared: Readonly<Record<string, unknown>>[] = [];
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim?.close();
});
afterEach(() => {
  sim.clearFaults();
});

/** Where the reference documents the exchange's IP error code, the finding must name it. */
const DOCUMENTED_IP_CODE: Partial<Record<ExchangeId, string>> = {
  okx: "IP_NOT_ALLOWED",
  bybit: "IP_NOT_ALLOWED",
  bitget: "IP_NOT_ALLOWED",
};

const detectorFor = (id: SimulatedExchangeId, timeoutMs = 5000) =>
  createCcxtDetector({ baseUrl: sim.url(id), timeoutMs, afterCall: (i) => cleared.push(i) });
const codes = (r: DetectionResult, policy: object = LOOSE_IP) => {
  const v = decide(r, policy);
  return v.ok ? [] : [...new Set(v.findings.map((f) => f.code))];
};
async function detect(
  id: SimulatedExchangeId,
  perms: object,
  opts: { probe?: boolean; key?: TestKey; timeoutMs?: number } = {},
) {
  const k = opts.key ?? testKey(id);
  if (!opts.key) register(sim, id, k, perms);
  const before = sim.requests.count({ exchange: id });
  const result = await detectorFor(
    id,
    opts.timeoutMs,
  )({ exchange: id, credentials: secrets(k), probe: opts.probe ?? false });
  const text = [JSON.stringify(result), inspect(result, { depth: 9 })].join("\n");
  expect(text).not.toContain(k.canary);
  expect(text).not.toContain(k.secret);
  if (k.password) expect(text).not.toContain(k.password);
  expect(text).not.toMatch(/signature=|Signature=|https?:\/\//);
  return { result, requests: sim.requests.count({ exchange: id }) - before, key: k };
}

describe.each(CONFIRMED)("%s through real ccxt and the simulator", (id) => {
  const calls = id === "htx" ? 2 : 1;
  it("withdraw-enabled → rejected", async () => {
    const { result, requests } = await detect(id, WITHDRAW);
    expect(codes(result)).toContain("WITHDRAW_ENABLED");
    expect(requests).toBe(calls);
  });
  // OKX and HTX: a Trade key can move funds between master and sub-accounts (okx.model.ts, htx.model.ts).
  const tradeMovesFunds = id === "okx" || id === "htx";
  it(`trade-only → ${tradeMovesFunds ? "transfer-capable, rejected by default" : "accepted"}, with exactly ${calls} request(s)`, async () => {
    const { result, requests } = await detect(id, TRADE);
    expect(codes(result)).toEqual(tradeMovesFunds ? ["TRANSFER_ENABLED"] : []);
    expect(codes(result, { ...LOOSE_IP, rejectTransfer: false })).toEqual([]);
    expect(requests).toBe(calls);
  });
  it("read-only → rejected by default, accepted with acceptReadOnly", async () => {
    const { result } = await detect(id, READ_ONLY);
    expect(codes(result)).toEqual(["READ_ONLY"]);
    expect(codes(result, { ...LOOSE_IP, acceptReadOnly: true })).toEqual([]);
  });
  it("error body with HTTP 200 → rejected", async () => {
    const k = testKey(id);
    register(sim, id, k, TRADE);
    sim.inject({ exchange: id, kind: "error-body-200", times: 2 });
    const { result } = await detect(id, TRADE, { key: k });
    expect(result.ok).toBe(false);
  });
  it("malformed JSON → rejected", async () => {
    const k = testKey(id);
    register(sim, id, k, TRADE);
    sim.inject({ exchange: id, kind: "malformed-json", times: 2 });
    const { result } = await detect(id, TRADE, { key: k });
    expect(result.ok).toBe(false);
  });
  it("unexpected but valid JSON shape → MALFORMED_RESPONSE or EXCHANGE_ERROR", async () => {
    const k = testKey(id);
    register(sim, id, k, TRADE);
    sim.inject({ exchange: id, kind: "custom", status: 200, body: { hello: "world" }, times: 2 });
    const { result } = await detect(id, TRADE, { key: k });
    expect(
      codes(result, { ...LOOSE_IP, acceptReadOnly: true, rejectTransfer: false }).length,
    ).toBeGreaterThan(0);
  });
  it("IP not allowed → IP_NOT_ALLOWED or a rejection", async () => {
    const k = testKey(id);
    register(sim, id, k, TRADE);
    sim.inject({ exchange: id, kind: "ip-not-allowed", times: 2 });
    const { result } = await detect(id, TRADE, { key: k });
    expect(result.ok, JSON.stringify(result)).toBe(false);
    const expected = DOCUMENTED_IP_CODE[id];
    if (expected) expect(codes(result)).toEqual([expected]);
  });
  it("wrong secret → INVALID_KEY (or another rejection), no secret in the findings", async () => {
    const k = testKey(id);
    register(sim, id, { ...k, secret: testKey(id).secret }, TRADE);
    const { result } = await detect(id, TRADE, { key: k });
    expect(result.ok).toBe(false);
  });
});

describe("ccxt binding details", () => {
  it("5xx → NETWORK, and the signed URL never reaches the findings", async () => {
    const k = testKey("binance");
    register(sim, "binance", k, TRADE);
    sim.inject({ exchange: "binance", kind: "server-error" });
    const { result } = await detect("binance", TRADE, { key: k });
    expect(codes(result)).toEqual(["NETWORK"]);
  });
  it("timeout → NETWORK", async () => {
    const k = testKey("okx");
    register(sim, "okx", k, TRADE);
    sim.inject({ exchange: "okx", kind: "timeout" });
    const { result } = await detect("okx", TRADE, { key: k, timeoutMs: 300 });
    expect(codes(result)).toEqual(["NETWORK"]);
  });
  it("HTX's permission-denied v2 body (no ccxt exception) → rejected", async () => {
    const k = testKey("htx");
    register(sim, "htx", k, TRADE);
    sim.inject({ exchange: "htx", kind: "error-body-200", endpoint: "GET /v2/user/api-key" });
    const { result, requests } = await detect("htx", TRADE, { key: k });
    expect(result.ok).toBe(false);
    expect(requests).toBe(2);
  });
  it("credentials and last request/response fields are cleared from the instance after the call.", async () => {
    cleared.length = 0;
    await detect("okx", TRADE);
    expect(cleared).toHaveLength(1);
    const ex = cleared[0] ?? {};
    for (const f of [
      "apiKey",
      "secret",
      "password",
      "uid",
      "privateKey",
      "last_request_headers",
      "last_request_body",
      "last_request_url",
      "last_http_response",
      "last_json_response",
    ]) {
      expect(ex[f], f).toBeUndefined();
    }
    expect(ex.verbose).toBe(false);
    expect(ex.markets).toBeUndefined(); // no loadMarkets
  });
  it("unconfirmed exchanges never accept, but reject reported withdraw", async () => {
    expect(codes((await detect("bingx", WITHDRAW)).result)).toContain("WITHDRAW_ENABLED");
    expect(
      (await detect("gate", TRADE)).result.ok === false ||
        codes((await detect("gate", TRADE)).result).length > 0,
    ).toBe(true);
  });
  it("probe exchanges: nothing is called without opt-in; with it, withdraw rejects and nothing accepts", async () => {
    for (const id of ["mexc", "cryptocom"] as const) {
      const off = await detect(id, WITHDRAW);
      expect(codes(off.result)).toEqual(["PROBE_NOT_ENABLED"]);
      expect(off.requests).toBe(0);
      const on = await detect(id, WITHDRAW, { probe: true });
      expect(codes(on.result)).toContain("WITHDRAW_ENABLED");
      expect(on.requests).toBe(1);
      const trade = await detect(id, TRADE, { probe: true });
      expect(codes(trade.result, { ...LOOSE_IP, acceptReadOnly: true }).length).toBeGreaterThan(0);
    }
  });
  it("unsupported exchanges make no request", async () => {
    for (const id of ["deribit", "bitstamp"] as const) {
      const r = await detect(id, TRADE);
      expect(codes(r.result)).toEqual(["UNSUPPORTED"]);
      expect(r.requests).toBe(0);
    }
  });
  it("one onboarding makes exactly one HTTP request (two for HTX), counted by the simulator", async () => {
    for (const id of ["binance", "htx"] as const) {
      const k = testKey(id);
      register(sim, id, k, { ...TRADE, ipRestricted: true, ipAllowList: [] });
      const before = sim.requests.count({ exchange: id });
      const audit = memoryAudit();
      await onboardKey(
        // HTX: a Trade key can move funds to sub-accounts; allowed here to count a full onboarding.
        {
          userId: "u",
          exchange: id,
          credentials: secrets(k),
          policy: { ...LOOSE_IP, rejectTransfer: false },
        },
        {
          detect: detectorFor(id),
          audit,
          storeCredential: async () => ({ credentialId: `c-${id}` }),
        },
      );
      expect(sim.requests.count({ exchange: id }) - before).toBe(id === "htx" ? 2 : 1);
      expect(JSON.stringify(audit.entries)).not.toContain(k.canary);
    }
  });
  it("an onboarding of a withdraw key through ccxt: rejected, wiped, audited without key material", async () => {
    const k = testKey("kucoin");
    register(sim, "kucoin", k, WITHDRAW);
    const creds = secrets(k);
    const audit = memoryAudit();
    let stored = false;
    const err = await onboardKey(
      { userId: "u", exchange: "kucoin", credentials: creds, policy: LOOSE_IP },
      {
        detect: detectorFor("kucoin"),
        audit,
        storeCredential: async () => {
          stored = true;
          return { credentialId: "x" };
        },
      },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_PERMISSIONS_WITHDRAW_ENABLED" });
    expect(stored).toBe(false);
    expect(creds.secret.wiped && creds.password?.wiped).toBe(true);
    const dump = [
      JSON.stringify(err),
      inspect(err, { depth: 9 }),
      String((err as Error).stack),
      JSON.stringify(audit.entries),
    ].join("\n");
    for (const s of [k.canary, k.secret, k.password ?? "", k.apiKey]) expect(dump).not.toContain(s);
  });
  it("every request the detector sends is one of the documented read endpoints (probes included)", async () => {
    const READS: Record<string, string[]> = {
      binance: ["GET /sapi/v1/account/apiRestrictions"],
      binanceusdm: ["GET /sapi/v1/account/apiRestrictions"],
      bybit: ["GET /v5/user/query-api"],
      okx: ["GET /api/v5/account/config"],
      kucoin: ["GET /api/v1/user/api-key"],
      coinbase: ["GET /api/v3/brokerage/key_permissions"],
      kraken: ["POST /0/private/GetApiKeyInfo"],
      bitget: ["GET /api/v2/spot/account/info"],
      bitfinex: ["POST /v2/auth/r/permissions"],
      gemini: ["POST /v1/roles"],
      bingx: ["GET /openApi/v1/account/apiPermissions"],
      htx: ["GET /v2/user/uid", "GET /v2/user/api-key"],
      gate: ["GET /api/v4/account/detail"],
      mexc: ["GET /api/v3/account"],
      cryptocom: ["POST /exchange/v1/private/get-withdrawal-history"],
      deribit: [],
      bitstamp: [],
    };
    for (const [id, endpoints] of Object.entries(READS) as [SimulatedExchangeId, string[]][]) {
      const before = sim.requests.all().length;
      await detect(id, WITHDRAW, { probe: true });
      const sent = sim.requests
        .all()
        .slice(before)
        .map((r) => r.endpoint);
      expect(sent, id).toEqual(endpoints);
    }
  });
  it("refuses a non-loopback baseUrl", () => {
    expect(() => createCcxtDetector({ baseUrl: "http://example.com" })).toThrow(/loopback/);
  });
});
