import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCcxtExchange } from "../../src/ccxt-loader.js";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
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

const fixtures = new Map(loadFixtures("hyperliquid").map((f) => [f.name, f]));

/** The capability flags a fixture states, for comparison with the end-to-end answer. */
function flagsOf(name: string) {
  const want = fixtures.get(name)?.expect;
  if (!want?.ok) throw new Error(`no accepted-shape fixture ${name}`);
  const { read, trade, withdraw, transfer } = want;
  return { read, trade, withdraw, transfer };
}
/** The fixture's recorded answer body. */
const bodyOf = (name: string) => fixtures.get(name)?.answers[0]?.body;

/** ccxt's own address derivation (an implementation independent of the simulator's). */
async function addressOf(privateKey: string): Promise<string> {
  const Hl = (await loadCcxtExchange("hyperliquid")) as unknown as new (
    c: object,
  ) => { ethGetAddressFromPrivateKey: (k: string) => string };
  return new Hl({}).ethGetAddressFromPrivateKey(privateKey).toLowerCase();
}

async function detect(perms: object) {
  const k = testKey("hyperliquid");
  register(sim, "hyperliquid", k, perms);
  const before = sim.requests.count({ exchange: "hyperliquid" });
  const result = await createCcxtDetector({ baseUrl: sim.url("hyperliquid"), timeoutMs: 5000 })({
    exchange: "hyperliquid",
    credentials: secrets(k),
  });
  const text = [JSON.stringify(result), inspect(result, { depth: 9 })].join("\n");
  expect(text).not.toContain(k.canary);
  return { k, result, requests: sim.requests.count({ exchange: "hyperliquid" }) - before };
}

async function info(body: unknown) {
  const r = await fetch(`${sim.url("hyperliquid")}/api.hyperliquid.xyz/info`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: r.status === 200 ? await r.json() : await r.text() };
}

describe("hyperliquid end to end: real ccxt asks userRole, the simulator answers, the parser reads", () => {
  it("an agent (trade only) reads like the trade-only fixture, asked about the address ccxt derives", async () => {
    const { k, result, requests } = await detect({ read: true, trade: true });
    expect(requests).toBe(1);
    expect(result.ok && { ...result.permissions }).toMatchObject(flagsOf("trade-only"));
    const signer = await addressOf(k.secret);
    expect(sim.requests.count({ apiKey: signer, endpoint: "POST /info", outcome: "ok" })).toBe(1);
  });
  it("an account's own key (withdraw) reads like the withdraw fixture", async () => {
    const { result } = await detect({ read: true, trade: true, withdraw: true });
    expect(result.ok && { ...result.permissions }).toMatchObject(flagsOf("withdraw"));
  });
  it("a key without trade is unknown to the chain and reads like the read-only fixture", async () => {
    const { result } = await detect({ read: true });
    expect(result.ok && { ...result.permissions }).toMatchObject(flagsOf("read-only"));
  });
  it("answers userRole in the recorded fixtures' shapes", async () => {
    const agent = testKey("hyperliquid");
    register(sim, "hyperliquid", agent, { read: true, trade: true });
    const signer = await addressOf(agent.secret);
    expect((await info({ type: "userRole", user: signer })).body).toEqual({
      role: "agent",
      data: { user: agent.apiKey.toLowerCase() },
    });
    // The account an agent trades for is a user; an address nobody registered is missing.
    expect((await info({ type: "userRole", user: agent.apiKey })).body).toEqual(bodyOf("withdraw"));
    const nobody = `0x${randomBytes(20).toString("hex")}`;
    expect((await info({ type: "userRole", user: nobody })).body).toEqual(bodyOf("read-only"));
  });
  it("lists an account's agents with extraAgents", async () => {
    const agent = testKey("hyperliquid");
    register(sim, "hyperliquid", agent, { read: true, trade: true });
    const { body } = await info({ type: "extraAgents", user: agent.apiKey });
    expect(body).toEqual([
      { name: "agent1", address: await addressOf(agent.secret), validUntil: expect.any(Number) },
    ]);
  });
  it("an unreadable info body is a 422, as Hyperliquid answers", async () => {
    expect(await info({ type: "userRole", user: "not-an-address" })).toEqual({
      status: 422,
      body: "Failed to deserialize the JSON body into the target type",
    });
    expect((await info({ type: "noSuchQuery", user: `0x${"1".repeat(40)}` })).status).toBe(422);
  });
  it("every /exchange action is refused and counted", async () => {
    const r = await fetch(`${sim.url("hyperliquid")}/api.hyperliquid.xyz/exchange`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: { type: "withdraw3" }, nonce: Date.now() }),
    });
    expect(await r.json()).toMatchObject({ status: "err" });
    expect(sim.requests.count({ exchange: "hyperliquid", outcome: "withdraw-refused" })).toBe(1);
  });
  it("a Hyperliquid key is registered as an account address and a secp256k1 private key.", () => {
    const k = testKey("hyperliquid");
    for (const bad of [
      { apiKey: "not-an-address", secret: k.secret },
      { apiKey: k.apiKey, secret: "not-a-key" },
      { apiKey: k.apiKey, secret: `0x${"0".repeat(64)}` },
      { apiKey: k.apiKey, secret: `0x${"f".repeat(64)}` },
    ]) {
      expect(() => sim.setKey("hyperliquid", bad)).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
    }
    expect(() => sim.setKey("hyperliquid", { apiKey: k.apiKey, secret: k.secret })).not.toThrow();
  });
});
