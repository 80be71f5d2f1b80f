import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExchangeSimulator,
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
import { PERMISSION_CALLS } from "./permission-calls.js";
import { REPORTED_FLAGS } from "./reported-flags.js";

const ids = Object.keys(PERMISSION_CALLS) as SimulatedExchangeId[];

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim.close();
});

function register(id: SimulatedExchangeId, c: TestCredentials, permissions: object): void {
  sim.setKey(id, {
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
  return new Exchange({ ...c, ...on.ccxtOptions(id) });
}

describe.each(ids)("%s through real ccxt", (id) => {
  const call = PERMISSION_CALLS[id];
  const flags = REPORTED_FLAGS[id];
  if (call === undefined || flags === undefined) throw new Error(`no permission call for ${id}`);

  it("a correctly signed permission call gets the documented shape for the configured permissions", async () => {
    const withdrawKey = testCredentials(id, "w");
    const tradeKey = testCredentials(id, "t");
    register(id, withdrawKey, { read: true, trade: true, withdraw: true });
    register(id, tradeKey, { read: true, trade: true, withdraw: false });

    const before = sim.requests.count({ exchange: id });
    const withdrawing = await call.call(await instance(id, withdrawKey));
    expect(flags(withdrawing)).toEqual({ trade: true, withdraw: true });
    const trading = await call.call(await instance(id, tradeKey));
    expect(flags(trading)).toEqual({ trade: true, withdraw: false });

    expect(sim.requests.count({ exchange: id })).toBe(before + 2);
    expect(
      sim.requests.count({
        exchange: id,
        apiKey: withdrawKey.apiKey,
        endpoint: call.endpoint,
        outcome: "ok",
      }),
    ).toBe(1);
    expect(sim.requests.count({ exchange: id, apiKey: tradeKey.apiKey, outcome: "ok" })).toBe(1);
  });

  it("a wrong secret is rejected with the exchange's authentication error", async () => {
    const key = testCredentials(id, "s");
    register(id, key, { read: true, trade: true });
    const ex = await instance(id, { ...key, secret: wrongSecret(id) });
    const err = await rejection(call.call(ex));
    expect(isCcxtError(err, "AuthenticationError")).toBe(true);
    expect(sim.requests.count({ apiKey: key.apiKey })).toBe(1);
    expect(sim.requests.count({ apiKey: key.apiKey, authFailure: "badSignature" })).toBe(1);
  });

  it("an unregistered key is rejected", async () => {
    const key = testCredentials(id, "u");
    const err = await rejection(call.call(await instance(id, key)));
    expect(isCcxtError(err, "AuthenticationError")).toBe(true);
    expect(sim.requests.count({ apiKey: key.apiKey, authFailure: "invalidKey" })).toBe(1);
  });

  it("a request signed ten minutes off the server clock is rejected", async () => {
    const skewed = await startExchangeSimulator({ now: () => Date.now() + 600_000 });
    try {
      const key = testCredentials(id, "k");
      skewed.setKey(id, {
        apiKey: key.apiKey,
        secret: key.secret,
        ...(key.password === undefined ? {} : { passphrase: key.password }),
      });
      const err = await rejection(call.call(await instance(id, key, skewed)));
      expect(isCcxtError(err, "ExchangeError") || isCcxtError(err, "NetworkError")).toBe(true);
      expect(skewed.requests.count({ apiKey: key.apiKey, authFailure: "staleTimestamp" })).toBe(1);
    } finally {
      await skewed.close();
    }
  });

  it("the same key on another exchange's simulator is unknown", async () => {
    const key = testCredentials(id, "x");
    const other: SimulatedExchangeId = id === "okx" ? "bybit" : "okx";
    sim.setKey(other, { apiKey: key.apiKey, secret: key.secret, passphrase: "p" });
    const err = await rejection(call.call(await instance(id, key)));
    expect(isCcxtError(err, "AuthenticationError")).toBe(true);
  });
});

describe("passphrase exchanges", () => {
  it.each(["okx", "kucoin"] as const)("%s: a wrong passphrase is rejected", async (id) => {
    const key = testCredentials(id, "p");
    register(id, key, { read: true });
    const call = PERMISSION_CALLS[id];
    if (call === undefined) throw new Error("missing call");
    const err = await rejection(call.call(await instance(id, { ...key, password: "wrong-pass" })));
    expect(isCcxtError(err, "AuthenticationError")).toBe(true);
    expect(sim.requests.count({ apiKey: key.apiKey, authFailure: "badPassphrase" })).toBe(1);
  });
});
