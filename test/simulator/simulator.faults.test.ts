import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExchangeSimulator,
  type FaultKind,
  SIMULATED_EXCHANGES,
  type SimulatedExchangeId,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import {
  type CcxtInstance,
  loadExchangeClass,
  type TestCredentials,
  testCredentials,
} from "./ccxt-classes.js";
import { isCcxtError, rejection } from "./ccxt-errors.js";
import { loggedKey, PERMISSION_CALLS } from "./permission-calls.js";

/*
 * What real ccxt 4.5.84 does with each fault is part of what these tests pin down: the detector
 * must not rely on ccxt throwing (reference §0.4).
 */

/** Error bodies sent with HTTP 200 that ccxt returns as data instead of throwing. */
const ERROR_BODY_NOT_THROWN: ReadonlySet<SimulatedExchangeId> = new Set(["bitfinex", "htx"]);
/** Exchanges whose ccxt throws on malformed JSON, and the class (the others return the raw text). */
const MALFORMED_THROWN: Partial<Record<SimulatedExchangeId, string>> = {
  cryptocom: "ExchangeError",
  // ccxt's lbank reads any body it cannot parse as an empty answer ("parseBalance() returned empty response").
  lbank: "NullResponse",
};
/** ccxt's class for a 5xx, where not ExchangeNotAvailable. */
const SERVER_ERROR_CLASS: Partial<Record<SimulatedExchangeId, string>> = {
  cryptocom: "ExchangeError",
  lbank: "NullResponse",
};
/** Exchanges whose keys have no IP allow-list, so an IP refusal cannot happen, and why. */
const NO_IP_ALLOW_LIST: Partial<Record<SimulatedExchangeId, string>> = {
  hyperliquid:
    "a wallet signs, nothing binds it to an address (the parser reads ipRestricted false)",
};
/** Documented rate-limit bodies that ccxt does not map to a rate-limit class. */
const RATE_LIMIT_UNMAPPED: ReadonlySet<SimulatedExchangeId> = new Set([
  "kucoin",
  "bingx",
  "bitstamp",
]);

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim.close();
});

async function setup(id: SimulatedExchangeId): Promise<{ ex: CcxtInstance; c: TestCredentials }> {
  const c = testCredentials(id, "f");
  sim.setKey(id, {
    apiKey: c.apiKey,
    secret: c.secret,
    ...(c.password === undefined ? {} : { passphrase: c.password }),
    // Probe exchanges only answer successfully for a withdraw-enabled key.
    permissions: { read: true, trade: true, withdraw: PERMISSION_CALLS[id].probe === true },
  });
  const Exchange = await loadExchangeClass(id);
  return { ex: new Exchange({ ...c, enableRateLimit: false, ...sim.ccxtOptions(id) }), c };
}

describe.each(SIMULATED_EXCHANGES)("%s faults through real ccxt", (id) => {
  const { call, endpoints } = PERMISSION_CALLS[id];
  const endpoint = endpoints[endpoints.length - 1] as string;
  const inject = (kind: FaultKind, times?: number) =>
    sim.inject({ exchange: id, kind, endpoint, ...(times === undefined ? {} : { times }) });

  it("a timeout hangs until ccxt gives up, then the next request is answered", async () => {
    const { ex, c } = await setup(id);
    ex.timeout = 300;
    inject("timeout");
    const err = await rejection(call(ex, c));
    expect(isCcxtError(err, "RequestTimeout")).toBe(true);
    await call(ex, c);
    expect(sim.requests.count({ apiKey: loggedKey(id, c), endpoint, outcome: "fault" })).toBe(1);
    expect(sim.requests.count({ apiKey: loggedKey(id, c), endpoint, outcome: "ok" })).toBe(1);
  });

  it("a 5xx is an exchange-unavailable error", async () => {
    const { ex, c } = await setup(id);
    inject("server-error");
    const err = await rejection(call(ex, c));
    expect(isCcxtError(err, SERVER_ERROR_CLASS[id] ?? "ExchangeNotAvailable")).toBe(true);
  });

  it("malformed JSON reaches the caller as text or an error, never as parsed data", async () => {
    const { ex, c } = await setup(id);
    inject("malformed-json");
    const thrown = MALFORMED_THROWN[id];
    if (thrown !== undefined) {
      expect(isCcxtError(await rejection(call(ex, c)), thrown)).toBe(true);
    } else {
      expect(typeof (await call(ex, c))).toBe("string");
    }
  });

  it("an error body with HTTP 200 is thrown, or returned as data where ccxt does not throw", async () => {
    const { ex, c } = await setup(id);
    inject("error-body-200");
    if (ERROR_BODY_NOT_THROWN.has(id)) {
      const body = JSON.stringify(await call(ex, c));
      expect(body).toMatch(/permission/i);
    } else {
      expect(isCcxtError(await rejection(call(ex, c)), "ExchangeError")).toBe(true);
    }
  });

  it("a rate-limit error applies to exactly the next N requests", async () => {
    const { ex, c } = await setup(id);
    inject("rate-limit", 2);
    for (let i = 0; i < 2; i++) {
      const err = await rejection(call(ex, c));
      const limited = isCcxtError(err, "DDoSProtection") || isCcxtError(err, "RateLimitExceeded");
      expect(limited).toBe(!RATE_LIMIT_UNMAPPED.has(id));
      expect(isCcxtError(err, "BaseError")).toBe(true);
    }
    await call(ex, c);
    expect(sim.requests.count({ apiKey: loggedKey(id, c), endpoint, outcome: "fault" })).toBe(2);
  });

  const noIp = NO_IP_ALLOW_LIST[id];
  (noIp === undefined ? it : it.skip)(
    `an IP-not-allowed error is thrown${noIp === undefined ? "" : ` — not applicable: ${noIp}`}`,
    async () => {
      const { ex, c } = await setup(id);
      inject("ip-not-allowed");
      const err = await rejection(call(ex, c));
      expect(isCcxtError(err, "ExchangeError")).toBe(true);
    },
  );
});

describe("fault scoping", () => {
  it("a fault for one exchange does not touch another", async () => {
    const a = await setup("binance");
    const b = await setup("okx");
    sim.inject({ exchange: "binance", kind: "server-error" });
    await PERMISSION_CALLS.okx.call(b.ex, b.c);
    await rejection(PERMISSION_CALLS.binance.call(a.ex, a.c));
    await PERMISSION_CALLS.binance.call(a.ex, a.c);
  });

  it("a custom fault answers exactly the given status and body", async () => {
    const { ex, c } = await setup("okx");
    sim.inject({
      exchange: "okx",
      kind: "custom",
      status: 200,
      body: { code: "0", data: [{ perm: "unknown_token" }] },
    });
    expect(await PERMISSION_CALLS.okx.call(ex, c)).toEqual({
      code: "0",
      data: [{ perm: "unknown_token" }],
    });
  });

  it("clearFaults drops pending faults", async () => {
    const { ex, c } = await setup("bybit");
    sim.inject({ exchange: "bybit", kind: "server-error", times: 5 });
    sim.clearFaults();
    await PERMISSION_CALLS.bybit.call(ex, c);
  });

  it("close() ends a request that is still hanging", async () => {
    const own = await startExchangeSimulator();
    own.inject({ exchange: "binance", kind: "timeout" });
    const pending = fetch(`${own.url("binance")}/api.binance.com/api/v3/ping`).then(
      () => "answered",
      () => "dropped",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await own.close();
    expect(await pending).toBe("dropped");
  });
});
