import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExchangeSimulator,
  SIMULATED_EXCHANGES,
  type SimulatedExchangeId,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import {
  type CcxtInstance,
  loadExchangeClass,
  type TestCredentials,
  testCredentials,
  wrongSecret,
} from "./ccxt-classes.js";
import { isCcxtError, rejection } from "./ccxt-errors.js";
import { loggedKey, PERMISSION_CALLS } from "./permission-calls.js";
import { REPORTED_FLAGS } from "./reported-flags.js";

/** Exchanges whose replay protection is an increasing nonce rather than a timestamp window. */
const NONCE_EXCHANGES: ReadonlySet<SimulatedExchangeId> = new Set(["kraken", "bitfinex", "gemini"]);

/** ccxt's class for the exchange's bad-signature / unknown-key bodies, where not AuthenticationError. */
const BAD_SIGNATURE_CLASS: Partial<Record<SimulatedExchangeId, string>> = {
  kraken: "ExchangeError",
};
const UNKNOWN_KEY_CLASS: Partial<Record<SimulatedExchangeId, string>> = {
  mexc: "BadRequest",
  bingx: "ExchangeError",
};

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim.close();
});

function register(
  on: ExchangeSimulator,
  id: SimulatedExchangeId,
  c: TestCredentials,
  permissions: object,
): void {
  on.setKey(id, {
    apiKey: c.apiKey,
    secret: c.secret,
    ...(c.password === undefined ? {} : { passphrase: c.password }),
    permissions,
  });
}

async function instance(
  id: SimulatedExchangeId,
  c: TestCredentials,
  on: ExchangeSimulator = sim,
): Promise<CcxtInstance> {
  const Exchange = await loadExchangeClass(id);
  return new Exchange({ ...c, enableRateLimit: false, ...on.ccxtOptions(id) });
}

describe.each(SIMULATED_EXCHANGES)("%s through real ccxt", (id) => {
  const { call, endpoints, probe, unsigned } = PERMISSION_CALLS[id];
  const flags = REPORTED_FLAGS[id];
  /** A case about rejecting a signed request: skipped (with the reason) where nothing is signed. */
  const signedCase = unsigned === undefined ? it : it.skip;
  const na = unsigned === undefined ? "" : ` — not applicable: ${unsigned}`;

  it("a correctly signed permission call gets the documented shape for the configured permissions", async () => {
    const withdrawKey = testCredentials(id, "w");
    const tradeKey = testCredentials(id, "t");
    register(sim, id, withdrawKey, { read: true, trade: true, withdraw: true });
    register(sim, id, tradeKey, { read: true, trade: true, withdraw: false });
    const before = sim.requests.count({ exchange: id });

    const withdrawing = await call(await instance(id, withdrawKey), withdrawKey);
    if (probe) {
      expect(withdrawing).toBeDefined();
      const err = await rejection(call(await instance(id, tradeKey), tradeKey));
      expect(isCcxtError(err, "PermissionDenied")).toBe(true);
    } else {
      if (flags === undefined) throw new Error(`no flag reader for ${id}`);
      expect(flags(withdrawing)).toEqual({ trade: true, withdraw: true });
      const trading = await call(await instance(id, tradeKey), tradeKey);
      expect(flags(trading)).toEqual({ trade: true, withdraw: false });
    }

    expect(sim.requests.count({ exchange: id })).toBe(before + 2 * endpoints.length);
    for (const endpoint of endpoints) {
      expect(
        sim.requests.count({
          exchange: id,
          apiKey: loggedKey(id, withdrawKey),
          endpoint,
          outcome: "ok",
        }),
      ).toBe(1);
      expect(
        sim.requests.count({
          exchange: id,
          apiKey: loggedKey(id, tradeKey),
          endpoint,
          outcome: "ok",
        }),
      ).toBe(1);
    }
  });

  signedCase(`a wrong secret is rejected with the exchange's signature error${na}`, async () => {
    const key = testCredentials(id, "s");
    register(sim, id, key, { read: true, trade: true });
    const err = await rejection(call(await instance(id, { ...key, secret: wrongSecret(id) }), key));
    expect(isCcxtError(err, BAD_SIGNATURE_CLASS[id] ?? "AuthenticationError")).toBe(true);
    expect(sim.requests.count({ apiKey: key.apiKey })).toBe(1);
    expect(sim.requests.count({ apiKey: key.apiKey, authFailure: "badSignature" })).toBe(1);
  });

  signedCase(
    `an unregistered key is rejected with the exchange's invalid-key error${na}`,
    async () => {
      const key = testCredentials(id, "u");
      const err = await rejection(call(await instance(id, key), key));
      expect(isCcxtError(err, UNKNOWN_KEY_CLASS[id] ?? "AuthenticationError")).toBe(true);
      expect(sim.requests.count({ apiKey: key.apiKey })).toBe(1);
      expect(sim.requests.count({ apiKey: key.apiKey, authFailure: "invalidKey" })).toBe(1);
    },
  );

  (NONCE_EXCHANGES.has(id) ? () => undefined : signedCase)(
    `a request signed ten minutes off the server clock is rejected${na}`,
    async () => {
      const skewed = await startExchangeSimulator({ now: () => Date.now() + 600_000 });
      try {
        const key = testCredentials(id, "k");
        register(skewed, id, key, { read: true });
        const err = await rejection(call(await instance(id, key, skewed), key));
        expect(isCcxtError(err, "ExchangeError") || isCcxtError(err, "InvalidNonce")).toBe(true);
        expect(skewed.requests.count({ apiKey: key.apiKey })).toBe(1);
        expect(skewed.requests.count({ apiKey: key.apiKey, authFailure: "staleTimestamp" })).toBe(
          1,
        );
      } finally {
        await skewed.close();
      }
    },
  );

  (NONCE_EXCHANGES.has(id) ? it : () => undefined)("a replayed nonce is rejected", async () => {
    const key = testCredentials(id, "n");
    register(sim, id, key, { read: true });
    const ex = await instance(id, key);
    const fixed = Date.now() * 1000;
    ex.nonce = () => fixed;
    await call(ex, key);
    const err = await rejection(call(ex, key));
    expect(isCcxtError(err, "InvalidNonce")).toBe(true);
    expect(sim.requests.count({ apiKey: key.apiKey, authFailure: "staleTimestamp" })).toBe(1);
  });

  signedCase(`the same key registered on another exchange is unknown here${na}`, async () => {
    const key = testCredentials(id, "x");
    const other: SimulatedExchangeId = id === "okx" ? "bybit" : "okx";
    sim.setKey(other, { apiKey: key.apiKey, secret: key.secret, passphrase: "p" });
    await rejection(call(await instance(id, key), key));
    expect(
      sim.requests.count({ exchange: id, apiKey: key.apiKey, authFailure: "invalidKey" }),
    ).toBe(1);
  });
});

describe("passphrase exchanges", () => {
  it.each(["okx", "kucoin", "bitget"] as const)(
    "%s: a wrong passphrase is rejected",
    async (id) => {
      const key = testCredentials(id, "p");
      register(sim, id, key, { read: true });
      const err = await rejection(
        PERMISSION_CALLS[id].call(await instance(id, { ...key, password: "wrong-pass" }), key),
      );
      expect(isCcxtError(err, "AuthenticationError")).toBe(true);
      expect(sim.requests.count({ apiKey: key.apiKey, authFailure: "badPassphrase" })).toBe(1);
    },
  );
});
