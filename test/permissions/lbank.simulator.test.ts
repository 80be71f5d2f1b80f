import { generateKeyPairSync } from "node:crypto";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCcxtExchange } from "../../src/ccxt-loader.js";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import { lbank } from "../../src/permissions/exchanges/lbank.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { Secret } from "../../src/secret.js";
import { register, secrets, testKey } from "./support/credentials.js";
import { loadFixtures } from "./support/exchange-fixtures.js";

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim?.close();
});

const fixtures = new Map(loadFixtures("lbank").map((f) => [f.name, f]));
const ENDPOINT = "POST /v2/supplement/api_Restrictions.do";

/** What a fixture says the parser reads, for comparison with the end-to-end answer. */
function expected(name: string) {
  const want = fixtures.get(name)?.expect;
  if (!want) throw new Error(`no fixture ${name}`);
  return want;
}

async function detectWith(credentials: ReturnType<typeof secrets>) {
  const result = await createCcxtDetector({ baseUrl: sim.url("lbank"), timeoutMs: 5000 })({
    exchange: "lbank",
    credentials,
  });
  return result;
}

async function detect(perms: object) {
  const k = testKey("lbank");
  register(sim, "lbank", k, perms);
  const before = sim.requests.count({ exchange: "lbank" });
  const result = await detectWith(secrets(k));
  const text = [JSON.stringify(result), inspect(result, { depth: 9 })].join("\n");
  expect(text).not.toContain(k.canary);
  expect(
    sim.requests.count({ exchange: "lbank", apiKey: k.apiKey, endpoint: ENDPOINT, outcome: "ok" }),
  ).toBe(1);
  return { result, requests: sim.requests.count({ exchange: "lbank" }) - before };
}

const flags = (r: Awaited<ReturnType<typeof detectWith>>) => {
  if (!r.ok) return r.findings.map((f) => f.code);
  const { read, trade, withdraw, transfer, ipRestricted } = r.permissions;
  return { ok: true, read, trade, withdraw, transfer, ipRestricted };
};
const fixtureFlags = (name: string) => {
  const e = expected(name);
  if (!e.ok) return e.findings;
  const { read, trade, withdraw, transfer, ipRestricted } = e;
  return { ok: true, read, trade, withdraw, transfer, ipRestricted };
};

describe("lbank end to end: real ccxt signs, the simulator verifies, the parser reads", () => {
  it("a trade key (HmacSHA256) reads like the trade-only fixture: unconfirmed, everything unknown", async () => {
    const { result, requests } = await detect({ read: true, trade: true });
    expect(requests).toBe(1);
    expect(flags(result)).toEqual(fixtureFlags("trade-only"));
  });
  it("a transfer key reads like the transfer fixture: transfer true", async () => {
    const { result } = await detect({ read: true, trade: true, transfer: true });
    expect(flags(result)).toEqual(fixtureFlags("transfer"));
  });
  it("a read-only key reads like the read-only fixture", async () => {
    const { result } = await detect({ read: true });
    expect(flags(result)).toEqual(fixtureFlags("read-only"));
  });
  it("a withdraw key reads withdraw true (the flag is named withdraw)", async () => {
    const { result } = await detect({ read: true, trade: true, withdraw: true });
    expect(result.ok && result.permissions.withdraw).toBe(true);
    expect(result.ok && result.permissions.transfer).toBe(true);
  });
  it("a wrong secret is refused by the simulator's signature check, like the invalid-signature fixture", async () => {
    const k = testKey("lbank");
    register(sim, "lbank", k, { read: true, trade: true });
    const result = await detectWith(secrets({ ...k, secret: `${k.secret}x` }));
    expect(flags(result)).toEqual(fixtureFlags("invalid-signature"));
    expect(sim.requests.count({ apiKey: k.apiKey, authFailure: "badSignature" })).toBe(1);
  });
  it("an RSA key (a secret longer than 32 characters) is verified with its public key", async () => {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const der = pair.privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
    const apiKey = `lbank-rsa-${Date.now()}`;
    sim.setKey("lbank", { apiKey, secret: der, permissions: { read: true, trade: true } });
    const ok = await detectWith({ apiKey, secret: Secret.fromString(der) });
    expect(flags(ok)).toEqual(fixtureFlags("trade-only"));
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const wrong = other.privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
    const refused = await detectWith({ apiKey, secret: Secret.fromString(wrong) });
    expect(flags(refused)).toEqual(["INVALID_KEY"]);
    expect(sim.requests.count({ apiKey, authFailure: "badSignature" })).toBe(1);
  });
  it("a stale timestamp is refused", async () => {
    const skewed = await startExchangeSimulator({ now: () => Date.now() + 600_000 });
    try {
      const k = testKey("lbank");
      register(skewed, "lbank", k, { read: true });
      await createCcxtDetector({ baseUrl: skewed.url("lbank"), timeoutMs: 5000 })({
        exchange: "lbank",
        credentials: secrets(k),
      });
      expect(skewed.requests.count({ apiKey: k.apiKey, authFailure: "staleTimestamp" })).toBe(1);
    } finally {
      await skewed.close();
    }
  });
  it("an LBank request carries each signed parameter once.", async () => {
    const k = testKey("lbank");
    register(sim, "lbank", k, { read: true });
    const Lbank = (await loadCcxtExchange("lbank")) as unknown as new (
      c: object,
    ) => Record<string, unknown>;
    const ex = new Lbank({ apiKey: k.apiKey, secret: k.secret });
    const signed = (
      ex.sign as (...a: unknown[]) => { url: string; body: string; headers: Record<string, string> }
    ).call(ex, "supplement/api_Restrictions", ["spot", "private"], "POST", {});
    const send = (body: string) =>
      fetch(`${sim.url("lbank")}/api.lbank.info/v2/supplement/api_Restrictions.do`, {
        method: "POST",
        headers: signed.headers,
        body,
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect((await send(signed.body)).result).toBe("true");
    // The same, correctly signed parameters with api_key sent twice: refused.
    const twice = await send(`${signed.body}&api_key=${encodeURIComponent(k.apiKey)}`);
    expect(twice).toMatchObject({ result: "false", error_code: 10007 });
  });
  it("the spec is unconfirmed and calls only its read-back", () => {
    expect(lbank.status).toBe("unconfirmed");
    expect(lbank.readOnlyMethods).toEqual(["spotPrivatePostSupplementApiRestrictions"]);
  });
});
