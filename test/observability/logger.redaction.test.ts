/**
 * Structured logs through a real pino logger: every secret and authorization field is redacted,
 * at any depth and in children's bindings, errors are reduced to their code, and a whole flow
 * (store, open, detect, trade, kill switch) logs its events without one canary value.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { KeywardenError } from "../../src/errors.js";
import { runAs } from "../../src/guard/context.js";
import {
  configureLogging,
  LOG_REDACT_PATHS,
  REDACTED,
  REDACTED_FIELDS,
  redactingLogger,
} from "../../src/observability/index.js";
import { runDetection } from "../../src/permissions/detect.js";
import { decide } from "../../src/permissions/policy.js";
import { Secret } from "../../src/secret.js";
import { createTradingClient } from "../../src/trading/client.js";
import type { ExchangeLike } from "../../src/trading/exchange-like.js";
import { createMemoryTradingState } from "../../src/trading/state.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { binanceSample } from "../permissions/fixtures/documented.js";
import { canary, localKms, makeIdp } from "../vault/helpers.js";

function capture() {
  const lines: string[] = [];
  const logger = pino({ level: "trace" }, { write: (s: string) => lines.push(s) });
  return { logger, text: () => lines.join(""), records: () => lines.map((l) => JSON.parse(l)) };
}

afterEach(() => configureLogging({ logger: undefined }));

describe("redactingLogger", () => {
  it("redacts every listed field, at any depth, in any spelling, and in child bindings", () => {
    const c = capture();
    const log = redactingLogger(c.logger);
    const value = canary();
    const fields = Object.fromEntries(REDACTED_FIELDS.map((f) => [f, `${value}-${f}`]));
    const headers = {
      Authorization: `Bearer ${value}`,
      "X-MBX-APIKEY": value,
      "OK-ACCESS-SIGN": value,
      "ok-access-passphrase": value,
      Cookie: `s=${value}`,
      API_KEY: value,
    };
    log.info({ ...fields, nested: { deeper: [{ headers }] }, exchange: "binance" }, "request");
    log.child({ session: value, requestId: "r-1" }).warn({ secret: value }, "child");
    const text = c.text();
    expect(text).not.toContain(value);
    expect(text).toContain(REDACTED);
    const [first, second] = c.records();
    expect(first.exchange).toBe("binance");
    expect(first.nested.deeper[0].headers.Authorization).toBe(REDACTED);
    expect(second).toMatchObject({ requestId: "r-1", session: REDACTED, secret: REDACTED });
  });

  it("masks Secrets, reduces errors (message and cause) to their code, and describes bytes", () => {
    const c = capture();
    const log = redactingLogger(c.logger);
    const value = canary();
    const err = new KeywardenError("ERR_VAULT_DECRYPT_FAILED", `bad ${value}`, {
      cause: new Error(value),
    });
    log.error({
      s: Secret.fromString(value),
      err,
      plain: new Error(value),
      raw: Buffer.from(value),
    });
    const text = c.text();
    expect(text).not.toContain(value);
    expect(c.records()[0]).toMatchObject({
      s: REDACTED,
      err: { type: "KeywardenError", code: "ERR_VAULT_DECRYPT_FAILED" },
      plain: { type: "Error", code: "other" },
      raw: `[${Buffer.byteLength(value)} bytes]`,
    });
  });

  it("offers the same list as pino redact paths, and refuses a logger that is not one", () => {
    expect(LOG_REDACT_PATHS).toContain("authorization");
    expect(LOG_REDACT_PATHS).toContain("*.secret");
    expect(() => redactingLogger({} as never)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});

function exchange(): () => ExchangeLike {
  return () => ({
    markets: { "BTC/USDT": {} },
    throttler: {},
    loadMarkets: async () => ({ "BTC/USDT": {} }),
    setMarkets: () => undefined,
    createOrder: async (symbol) => ({ id: "1", symbol, status: "open" }),
    cancelOrder: async (id) => ({ id }),
    cancelAllOrders: async () => [],
    fetchOrder: async (id) => ({ id, symbol: "BTC/USDT" }),
    fetchOpenOrders: async () => [],
    fetchMyTrades: async () => [],
    fetchBalance: async () => ({}),
    fetchTicker: async () => ({ last: 60000 }),
  });
}

describe("configureLogging", () => {
  it("logs a whole flow's events without a secret, an api key or a user id", async () => {
    const c = capture();
    configureLogging({ logger: c.logger });
    const secret = canary();
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    const alice = await idp.session("alice-5d2f");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { apiKey: "alice-api-key-77", secret },
    });
    const bob = await idp.session("bob-0b1c");
    await vault.withCredentials(bob, credentialId, () => undefined).catch(() => undefined);
    decide(
      await runDetection("binance", { apiKey: "alice-api-key-77" }, async () => ({
        ok: true,
        body: { ...binanceSample, enableWithdrawals: true },
      })),
    );
    const trading = createTradingClient({
      vault,
      audit: new AuditLog({ store: createMemoryAuditStore() }),
      state: createMemoryTradingState(),
      exchanges: exchange(),
    });
    await runAs(alice, async () => {
      const h = trading.handle(credentialId);
      await h.createOrder("BTC/USDT", "limit", "buy", 0.01, 60000);
      await trading.fireKillSwitch("alice-5d2f", "drawdown");
      await h.createOrder("BTC/USDT", "limit", "buy", 0.01, 60000).catch(() => undefined);
    });
    const events = c.records().map((r) => r.event);
    expect(events).toEqual(
      expect.arrayContaining([
        "vault.credential.open_refused",
        "permissions.refused",
        "trading.order.placed",
        "trading.kill_switch",
        "trading.order.refused",
      ]),
    );
    expect(c.records().every((r) => r.lib === "keywarden")).toBe(true);
    const text = c.text();
    for (const forbidden of [secret, "alice-api-key-77", "alice-5d2f", "bob-0b1c", credentialId])
      expect(text).not.toContain(forbidden);
  });

  it("logs nothing once the logger is removed (and never by default)", async () => {
    const c = capture();
    configureLogging({ logger: c.logger });
    configureLogging({ logger: undefined });
    decide(
      await runDetection("binance", { apiKey: "k" }, async () => ({ ok: false, kind: "network" })),
    );
    expect(c.text()).toBe("");
  });
});
