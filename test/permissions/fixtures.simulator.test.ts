import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import {
  type ExchangeSimulator,
  SIMULATED_EXCHANGES,
  type SimulatedExchangeId,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { loadFixtures } from "./fixtures/load.js";
import { register, secrets, testKey } from "./support/credentials.js";

/*
 * The simulator reads the same fixture files as the parser tests: for every documented case whose
 * capabilities are definite, a simulator key set to those capabilities must be read back, through
 * real ccxt, as exactly what the documented response says. A simulator that drifted from the docs
 * (e.g. an OKX Trade key without transfer) fails here.
 */
const simulated = new Set<string>(SIMULATED_EXCHANGES);
const cases = loadFixtures().flatMap((f) => {
  const e = f.fixture.expect;
  if (!e.ok || !simulated.has(f.exchange)) return [];
  const caps = [e.read, e.trade, e.withdraw, e.transfer];
  if (caps.some((c) => c === "unknown")) return [];
  return [[`${f.exchange} ${f.name}`, f.exchange as SimulatedExchangeId, e] as const];
});

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim?.close();
});

describe("the simulator agrees with the documented fixtures", () => {
  it("covers the fixtures of every simulated confirmed exchange", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });
  it.each(cases)("%s", async (_t, id, e) => {
    if (!e.ok) throw new Error("unreachable");
    const k = testKey(id, _t.replace(/\W/g, ""));
    const ip = e.ipRestricted === true;
    register(sim, id, k, {
      read: e.read === true,
      trade: e.trade === true,
      withdraw: e.withdraw === true,
      transfer: e.transfer === true,
      ipRestricted: ip,
      ...(ip ? { ipAllowList: ["203.0.113.7"] } : {}),
    });
    const detect = createCcxtDetector({ baseUrl: sim.url(id), timeoutMs: 5000 });
    const r = await detect({ exchange: id, credentials: secrets(k), probe: false });
    if (!r.ok) throw new Error(r.findings.map((f) => f.code).join(","));
    const p = r.permissions;
    expect({ trade: p.trade, withdraw: p.withdraw, transfer: p.transfer }).toEqual({
      trade: e.trade,
      withdraw: e.withdraw,
      transfer: e.transfer,
    });
  });
});
