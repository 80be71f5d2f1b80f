import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import { woo } from "../../src/permissions/exchanges/woo.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { register, secrets, testKey } from "./support/credentials.js";
import { loadFixtures } from "./support/exchange-fixtures.js";

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim?.close();
});

const fixtures = new Map(loadFixtures("woo").map((f) => [f.name, f]));

/** The capability flags a fixture states, for comparison with the end-to-end answer. */
function flagsOf(name: string) {
  const want = fixtures.get(name)?.expect;
  if (!want) throw new Error(`no fixture ${name}`);
  const { read, trade, withdraw, transfer } = want;
  return { read, trade, withdraw, transfer };
}

async function detect(perms: object, ips?: readonly string[]) {
  const k = testKey("woo");
  register(sim, "woo", k, { ...perms, ...(ips ? { ipAllowList: ips } : {}) });
  const before = sim.requests.count({ exchange: "woo" });
  const result = await createCcxtDetector({ baseUrl: sim.url("woo"), timeoutMs: 5000 })({
    exchange: "woo",
    credentials: secrets(k),
  });
  const text = [JSON.stringify(result), inspect(result, { depth: 9 })].join("\n");
  expect(text).not.toContain(k.canary);
  return { result, requests: sim.requests.count({ exchange: "woo" }) - before };
}

describe("woo end to end: real ccxt signs, the simulator verifies, the parser reads", () => {
  it("a withdraw key reads like the withdraw fixture (the doc sample)", async () => {
    const { result, requests } = await detect({ read: true, trade: true, withdraw: true });
    expect(requests).toBe(1);
    expect(result.ok && { ...result.permissions }).toMatchObject(flagsOf("withdraw"));
  });
  it("a trade key reads like the trade-only fixture, IP list included", async () => {
    const { result } = await detect({ read: true, trade: true }, ["203.0.113.7"]);
    expect(result.ok && { ...result.permissions }).toMatchObject(flagsOf("trade-only"));
    expect(result.ok && result.permissions.ipAllowList).toEqual(["203.0.113.7"]);
  });
  it("a read-only key reads like the read-only fixture", async () => {
    const { result } = await detect({ read: true });
    expect(result.ok && { ...result.permissions }).toMatchObject(flagsOf("read-only"));
  });
  it("a wrong secret is refused by the simulator's signature check → INVALID_KEY", async () => {
    const k = testKey("woo");
    register(sim, "woo", k, { read: true, trade: true });
    const result = await createCcxtDetector({ baseUrl: sim.url("woo"), timeoutMs: 5000 })({
      exchange: "woo",
      credentials: secrets({ ...k, secret: `${k.secret}x` }),
    });
    expect(result.ok ? [] : result.findings.map((f) => f.code)).toEqual(["INVALID_KEY"]);
  });
  it("the spec is confirmed and calls only its read-back", () => {
    expect(woo.status).toBe("confirmed");
    expect(woo.readOnlyMethods).toEqual(["v3PrivateGetAccountCredentials"]);
  });
});
