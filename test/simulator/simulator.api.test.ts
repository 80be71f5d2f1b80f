import { createHmac, randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKeywardenError } from "../../src/errors.js";
import {
  type ExchangeSimulator,
  SIMULATED_EXCHANGES,
  type SimulatedExchangeId,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { loadExchangeClass, testCredentials } from "./ccxt-classes.js";
import { isCcxtError, rejection } from "./ccxt-errors.js";
import { invoke, loggedKey, PERMISSION_CALLS } from "./permission-calls.js";
import { REPORTED_FLAGS } from "./reported-flags.js";

/** Exchanges whose signature covers the scheme and host, so rewriting `urls.api` cannot work. */
const URL_OVERRIDE_BREAKS_SIGNATURE: ReadonlySet<SimulatedExchangeId> = new Set([
  "coinbase",
  "bitstamp",
]);

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim.close();
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("startExchangeSimulator", () => {
  it("listens on 127.0.0.1 on a free port by default", () => {
    expect(sim.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.url("okx")).toBe(`${sim.baseUrl}/okx`);
  });

  it("rejects an unknown exchange id and invalid options", async () => {
    expect(
      isKeywardenError(
        thrown(() => sim.url("bitmex" as never)),
        "ERR_INVALID_ARGUMENT",
      ),
    ).toBe(true);
    await expect(startExchangeSimulator({ port: -1 })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    expect(
      isKeywardenError(thrown(() => sim.inject({ exchange: "okx", kind: "nope" as never }))),
    ).toBe(true);
  });

  it("OKX, KuCoin and Bitget keys are registered with a passphrase", () => {
    for (const id of ["okx", "kucoin", "bitget"] as const) {
      const err = thrown(() => sim.setKey(id, { apiKey: "k", secret: "s" }));
      expect(isKeywardenError(err, "ERR_INVALID_ARGUMENT")).toBe(true);
    }
  });

  it("invalid key registrations never echo the secret", () => {
    const canary = `CANARY-${randomBytes(8).toString("hex")}`;
    const errors = [
      thrown(() => sim.setKey("okx", { apiKey: "k", secret: canary })),
      thrown(() => sim.setKey("binance", { apiKey: "", secret: canary })),
      thrown(() => sim.setKey("binance", { apiKey: "k", secret: canary, extra: canary } as never)),
    ];
    for (const err of errors) {
      expect(isKeywardenError(err, "ERR_INVALID_ARGUMENT")).toBe(true);
      const e = err as Error;
      expect(
        `${e.message} ${e.stack} ${JSON.stringify(e)} ${inspect(e, { depth: 5 })}`,
      ).not.toContain(canary);
    }
  });

  it("the request log holds no secret, passphrase or signature, on success and on failure", async () => {
    const canary = `CANARY-${randomBytes(8).toString("hex")}`;
    const passphrase = `CANARY-P-${randomBytes(8).toString("hex")}`;
    sim.setKey("okx", {
      apiKey: "okx-canary",
      secret: canary,
      passphrase,
      permissions: { trade: true },
    });
    const Okx = await loadExchangeClass("okx");
    const good = new Okx({
      apiKey: "okx-canary",
      secret: canary,
      password: passphrase,
      enableRateLimit: false,
      ...sim.ccxtOptions("okx"),
    });
    await invoke(good, "privateGetAccountConfig");
    const bad = new Okx({
      apiKey: "okx-canary",
      secret: "other",
      password: passphrase,
      enableRateLimit: false,
      ...sim.ccxtOptions("okx"),
    });
    await rejection(invoke(bad, "privateGetAccountConfig"));
    const headers = good.last_request_headers as Record<string, string>;
    const dump = `${JSON.stringify(sim.requests.all())} ${inspect(sim, { depth: 8 })}`;
    for (const value of [canary, passphrase, headers["OK-ACCESS-SIGN"] as string]) {
      expect(dump).not.toContain(value);
    }
    expect(sim.requests.count({ apiKey: "okx-canary" })).toBe(2);
  });
});

describe("pointing ccxt at the simulator", () => {
  it.each(SIMULATED_EXCHANGES)(
    "%s: rewriting urls.api works exactly where the signature does not cover the host",
    async (id) => {
      const c = testCredentials(id, "url");
      sim.setKey(id, {
        apiKey: c.apiKey,
        secret: c.secret,
        ...(c.password === undefined ? {} : { passphrase: c.password }),
        permissions: { read: true, trade: true, withdraw: PERMISSION_CALLS[id].probe === true },
      });
      const Exchange = await loadExchangeClass(id);
      const ex = new Exchange({ ...c, enableRateLimit: false });
      sim.pointUrls(id, ex);
      if (URL_OVERRIDE_BREAKS_SIGNATURE.has(id)) {
        const err = await rejection(PERMISSION_CALLS[id].call(ex, c));
        expect(isCcxtError(err, "AuthenticationError")).toBe(true);
        expect(sim.requests.count({ apiKey: c.apiKey, authFailure: "badSignature" })).toBe(1);
      } else {
        const response = await PERMISSION_CALLS[id].call(ex, c);
        const flags = REPORTED_FLAGS[id];
        if (flags !== undefined) expect(flags(response)).toEqual({ trade: true, withdraw: false });
        expect(sim.requests.count({ apiKey: loggedKey(id, c), outcome: "ok" })).toBe(
          PERMISSION_CALLS[id].endpoints.length,
        );
      }
    },
  );

  it("only exchange https URLs are redirected to the simulator", () => {
    const { fetchImplementation } = sim.ccxtOptions("binance");
    for (const url of ["http://api.binance.com/x", "https://api.binance.com:8443/x", "not a url"]) {
      const err = thrown(() => fetchImplementation(url, {}));
      expect(isKeywardenError(err, "ERR_INVALID_ARGUMENT")).toBe(true);
    }
  });
});

describe("exchange behaviour", () => {
  it("a key with an enforced allow-list is refused from any other address", async () => {
    const c = testCredentials("bybit", "ip");
    const Bybit = await loadExchangeClass("bybit");
    sim.setKey("bybit", { apiKey: c.apiKey, secret: c.secret, ipAllowList: ["203.0.113.7"] });
    const err = await rejection(
      invoke(
        new Bybit({ ...c, enableRateLimit: false, ...sim.ccxtOptions("bybit") }),
        "privateGetV5UserQueryApi",
      ),
    );
    expect(isCcxtError(err, "PermissionDenied")).toBe(true);
    expect(sim.requests.count({ apiKey: c.apiKey, outcome: "ip-refused" })).toBe(1);

    sim.setKey("bybit", { apiKey: c.apiKey, secret: c.secret, ipAllowList: ["127.0.0.1"] });
    await invoke(
      new Bybit({ ...c, enableRateLimit: false, ...sim.ccxtOptions("bybit") }),
      "privateGetV5UserQueryApi",
    );
    expect(sim.requests.count({ apiKey: c.apiKey, outcome: "ok" })).toBe(1);
  });

  it("re-registering a key changes what the exchange reports (permissions widened later)", async () => {
    const c = testCredentials("binance", "re");
    const Binance = await loadExchangeClass("binance");
    const ex = new Binance({ ...c, enableRateLimit: false, ...sim.ccxtOptions("binance") });
    sim.setKey("binance", { apiKey: c.apiKey, secret: c.secret, permissions: { trade: true } });
    expect(await invoke(ex, "sapiGetAccountApiRestrictions")).toMatchObject({
      enableWithdrawals: false,
    });
    sim.setKey("binance", {
      apiKey: c.apiKey,
      secret: c.secret,
      permissions: { trade: true, withdraw: true, ipAllowList: ["198.51.100.4"] },
    });
    expect(await invoke(ex, "sapiGetAccountApiRestrictions")).toMatchObject({
      enableWithdrawals: true,
      ipRestrict: true,
    });
  });

  it("an endpoint the simulator does not model is answered with an error and counted", async () => {
    const c = testCredentials("binance", "unk");
    sim.setKey("binance", { apiKey: c.apiKey, secret: c.secret });
    const Binance = await loadExchangeClass("binance");
    const err = await rejection(
      invoke(
        new Binance({ ...c, enableRateLimit: false, ...sim.ccxtOptions("binance") }),
        "sapiGetAccountStatus",
      ),
    );
    expect(isCcxtError(err, "ExchangeError") || isCcxtError(err, "NetworkError")).toBe(true);
    expect(
      sim.requests.count({
        apiKey: c.apiKey,
        endpoint: "GET /sapi/v1/account/status",
        outcome: "unknown-endpoint",
      }),
    ).toBe(1);
  });

  it("HTX answers api-key info only for the caller's own uid and access key", async () => {
    const c = testCredentials("htx", "uid");
    sim.setKey("htx", {
      apiKey: c.apiKey,
      secret: c.secret,
      uid: "777",
      permissions: { trade: true },
    });
    const Htx = await loadExchangeClass("htx");
    const ex = new Htx({ ...c, enableRateLimit: false, ...sim.ccxtOptions("htx") });
    const wrong = (await invoke(ex, "v2PrivateGetUserApiKey", {
      uid: "778",
      accessKey: c.apiKey,
    })) as Record<string, unknown>;
    expect(wrong.code).toBe(1002);
    expect(wrong.data).toBeNull();
    const right = (await invoke(ex, "v2PrivateGetUserApiKey", {
      uid: "777",
      accessKey: c.apiKey,
    })) as Record<string, unknown>;
    expect(right.code).toBe(200);
  });

  it("deribit public/auth verifies a client_signature and reports the key's scopes", async () => {
    const c = testCredentials("deribit", "auth");
    sim.setKey("deribit", {
      apiKey: c.apiKey,
      secret: c.secret,
      permissions: { trade: true, withdraw: true },
    });
    const Deribit = await loadExchangeClass("deribit");
    const ex = new Deribit({ ...c, enableRateLimit: false, ...sim.ccxtOptions("deribit") });
    const auth = (secret: string) => {
      const timestamp = String(Date.now());
      const nonce = randomBytes(8).toString("hex");
      const signature = createHmac("sha256", secret)
        .update(`${timestamp}\n${nonce}\n`)
        .digest("hex");
      return invoke(ex, "publicGetAuth", {
        grant_type: "client_signature",
        client_id: c.apiKey,
        timestamp,
        nonce,
        signature,
        data: "",
      });
    };
    const ok = (await auth(c.secret)) as { result: { scope: string } };
    expect(ok.result.scope.split(" ")).toEqual(
      expect.arrayContaining(["trade:read_write", "wallet:read_write"]),
    );
    expect(isCcxtError(await rejection(auth("wrong")), "AuthenticationError")).toBe(true);
  });
});

describe("requests outside the simulated exchanges", () => {
  it("are answered 404 and logged without their query string", async () => {
    const response = await fetch(
      `${sim.baseUrl}/bitmex/www.bitmex.com/api/v1/apiKey?signature=SECRETSIG`,
    );
    expect(response.status).toBe(404);
    const last = sim.requests.all().at(-1);
    expect(last).toMatchObject({
      exchange: null,
      outcome: "bad-request",
      endpoint: "GET /bitmex/www.bitmex.com/api/v1/apiKey",
    });
    expect(JSON.stringify(sim.requests.all())).not.toContain("SECRETSIG");
  });
});
