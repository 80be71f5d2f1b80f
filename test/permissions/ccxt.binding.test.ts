import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { Secret } from "../../src/secret.js";
import { register, secrets, testKey } from "./support/credentials.js";

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim?.close();
});

const TRADE = { read: true, trade: true };

describe("ccxt binding preconditions", () => {
  it("verbose logging is off whatever the constructor or defaults say.", async () => {
    // Load the very module the binding loads (same URL, same module instance) and make every
    // request try to switch verbose on: the binding's silenced logger must still print nothing.
    const root = dirname(dirname(createRequire(import.meta.url).resolve("ccxt")));
    const mod = (await import(pathToFileURL(join(root, "js", "src", "kraken.js")).href)) as {
      default: { prototype: { sign: (...a: unknown[]) => unknown; verbose?: boolean } };
    };
    const proto = mod.default.prototype;
    const sign = proto.sign;
    proto.sign = function (this: { verbose: boolean }, ...a: unknown[]) {
      this.verbose = true;
      return sign.apply(this, a);
    };
    const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      const k = testKey("kraken");
      register(sim, "kraken", k, TRADE);
      const seen: boolean[] = [];
      const detect = createCcxtDetector({
        baseUrl: sim.url("kraken"),
        afterCall: (i) => seen.push(i.verbose === true),
      });
      const r = await detect({ exchange: "kraken", credentials: secrets(k) });
      expect(r.ok).toBe(true);
      expect(seen).toEqual([true]); // verbose was flipped on during the call…
      expect(spy).not.toHaveBeenCalled(); // …and still nothing was logged
      const plain = createCcxtDetector({
        baseUrl: sim.url("okx"),
        afterCall: (i) => seen.push(i.verbose === true),
      });
      const ok = testKey("okx");
      register(sim, "okx", ok, TRADE);
      await plain({ exchange: "okx", credentials: secrets(ok) });
      expect(seen[1]).toBe(false);
    } finally {
      proto.sign = sign;
      spy.mockRestore();
    }
  });

  it("a ccxt error message leaves the binding only scrubbed of URLs, signatures and the credential values.", async () => {
    const k = testKey("binance");
    register(sim, "binance", k, TRADE);
    sim.inject({ exchange: "binance", kind: "server-error" });
    const r = await createCcxtDetector({ baseUrl: sim.url("binance") })({
      exchange: "binance",
      credentials: secrets(k),
    });
    expect(r.ok).toBe(false);
    const message = r.ok ? "" : String(r.findings[0]?.details?.clientMessage);
    expect(message).toContain("<url>"); // ccxt put the signed URL there…
    expect(message).not.toMatch(/signature|127\.0\.0\.1|api\.binance\.com/i); // …and it is gone
    expect(JSON.stringify(r)).not.toContain(k.apiKey);
  });

  it("baseUrl redirection only ever targets a loopback address.", () => {
    for (const url of [
      "http://example.com",
      "https://127.0.0.1:1",
      "http://10.0.0.1",
      "not a url",
    ]) {
      expect(() => createCcxtDetector({ baseUrl: url })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
    }
    expect(() => createCcxtDetector({ baseUrl: "http://localhost:9/x" })).not.toThrow();
  });

  it("only a supported exchange id is turned into a module path.", async () => {
    const detect = createCcxtDetector();
    for (const id of ["../../../etc/passwd", "bitmex", "ccxt", "__proto__"]) {
      await expect(
        detect({
          exchange: id as never,
          credentials: { apiKey: "k", secret: Secret.fromString("s") },
        }),
      ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    }
  });

  it("a wiped secret fails loudly with ERR_SECRET_WIPED, and no request is made", async () => {
    const k = testKey("bybit");
    register(sim, "bybit", k, TRADE);
    const creds = secrets(k);
    creds.secret.wipe();
    const before = sim.requests.count({ exchange: "bybit" });
    await expect(
      createCcxtDetector({ baseUrl: sim.url("bybit") })({ exchange: "bybit", credentials: creds }),
    ).rejects.toMatchObject({
      code: "ERR_SECRET_WIPED",
    });
    expect(sim.requests.count({ exchange: "bybit" })).toBe(before);
  });

  it("ccxt neither retries the call nor keeps a history of signed requests.", async () => {
    const k = testKey("okx");
    register(sim, "okx", k, TRADE);
    sim.inject({ exchange: "okx", kind: "server-error", times: 3 });
    const seen: Readonly<Record<string, unknown>>[] = [];
    const before = sim.requests.count({ exchange: "okx" });
    const r = await createCcxtDetector({ baseUrl: sim.url("okx"), afterCall: (i) => seen.push(i) })(
      {
        exchange: "okx",
        credentials: secrets(k),
      },
    );
    expect(r.ok).toBe(false);
    expect(sim.requests.count({ exchange: "okx" }) - before).toBe(1);
    expect(seen[0]?.fetchHistoryCacheSize).toBe(0);
    expect(seen[0]?.fetchHistoryCache).toEqual([]);
    expect((seen[0]?.options as Record<string, unknown> | undefined)?.maxRetriesOnFailure).toBe(0);
    sim.clearFaults();
  });

  it("passes a simulator fetchImplementation through unchanged", async () => {
    const k = testKey("bitget");
    register(sim, "bitget", k, TRADE);
    const r = await createCcxtDetector(sim.ccxtOptions("bitget"))({
      exchange: "bitget",
      credentials: secrets(k),
    });
    expect(r.ok && r.permissions.trade).toBe(true);
  });
});
