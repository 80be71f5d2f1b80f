import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKeywardenError } from "../../src/errors.js";
import { createRemoteTrading } from "../../src/trading/remote/index.js";
import { signerWorld } from "./world.js";

/**
 * The signer's token buckets (per bot capability and per user), over the real Unix socket with the
 * real trading client against the simulator. The signer's clock is a variable the test advances,
 * so "the limit resets" is shown without sleeping.
 */
let clock = Date.now();
let w: Awaited<ReturnType<typeof signerWorld>>;
const placedAtExchange = () => w.sim.requests.count({ endpoint: "POST /api/v3/order" });

beforeAll(async () => {
  w = await signerWorld({
    limits: { perBot: { perSecond: 1, burst: 3 }, perUser: { perSecond: 2, burst: 5 } },
    now: () => clock,
  });
});
afterAll(async () => {
  await w?.close();
});

const client = (capability: string, botId: string) =>
  createRemoteTrading({ signer: { socketPath: w.socketPath }, capability, botId, retryForMs: 0 });

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (!isKeywardenError(err)) throw err;
    return err.code;
  }
};

const health = async () => (await w.raw("/healthz", undefined, {}, "GET")).status;

describe("rate limits", () => {
  it("per bot: the bot past its burst gets ERR_SIGNER_RATE_LIMITED (HTTP 429), nothing is sent, another bot of the same user still works, and the bucket refills", async () => {
    const a = await w.enrol(w.alice, { botId: "bot-burst" });
    const b = await w.enrol(w.alice, { botId: "bot-other" });
    const ha = client(a.capability, "bot-burst").handle(w.aliceBinance);
    const hb = client(b.capability, "bot-other").handle(w.aliceBinance);
    const before = placedAtExchange();
    const order = () => ha.createOrder("BTC/USDT", "limit", "buy", 0.001, 50000);
    expect([await codeOf(order()), await codeOf(order()), await codeOf(order())]).toEqual([
      "ok",
      "ok",
      "ok",
    ]);
    expect(await codeOf(order())).toBe("ERR_SIGNER_RATE_LIMITED");
    expect(await codeOf(ha.fetchTicker("BTC/USDT"))).toBe("ERR_SIGNER_RATE_LIMITED");
    // The refused order never reached the exchange.
    expect(placedAtExchange() - before).toBe(3);
    // Over the wire it is a 429 with the typed body, not a dropped connection.
    const raw = await w.raw(
      "/v1/call",
      JSON.stringify({ credentialId: w.aliceBinance, method: "fetchTicker", args: ["BTC/USDT"] }),
      { authorization: `Bearer ${a.capability}`, "x-keywarden-bot": "bot-burst" },
    );
    expect(raw.status).toBe(429);
    expect(raw.json).toEqual({
      error: { code: "ERR_SIGNER_RATE_LIMITED", message: "too many requests; slow down" },
    });
    // The service stays up; the other bot has its own bucket.
    expect(await health()).toBe(200);
    expect(await codeOf(hb.fetchTicker("BTC/USDT"))).toBe("ok");
    // One second later one token is back (1/s), and only one.
    clock += 1000;
    expect(await codeOf(order())).toBe("ok");
    expect(await codeOf(order())).toBe("ERR_SIGNER_RATE_LIMITED");
    clock += 3000; // a full bucket again (burst 3)
    expect([await codeOf(order()), await codeOf(order()), await codeOf(order())]).toEqual([
      "ok",
      "ok",
      "ok",
    ]);
    expect(placedAtExchange() - before).toBe(7);
    clock += 10_000; // leave both buckets full for the next test
  });

  it("per user: bots of one user share the user's bucket; another user's bot is unaffected; the bucket refills", async () => {
    const bots = await Promise.all(
      ["u-1", "u-2", "u-3"].map(async (botId) => ({
        botId,
        h: client((await w.enrol(w.alice, { botId })).capability, botId).handle(w.aliceBinance),
      })),
    );
    const bob = await w.enrol(w.bob, { botId: "bob-bot" });
    const hBob = client(bob.capability, "bob-bot").handle(w.bobBinance);
    const tick = (i: number) => (bots[i % 3] as (typeof bots)[number]).h.fetchTicker("BTC/USDT");
    // Five requests spread over three bots (each under its own burst of 3) use alice's burst of 5.
    const first = [];
    for (let i = 0; i < 5; i++) first.push(await codeOf(tick(i)));
    expect(first).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    // Each bot still has bot tokens left, but the user has none.
    expect(await codeOf(tick(0))).toBe("ERR_SIGNER_RATE_LIMITED");
    expect(await codeOf(tick(2))).toBe("ERR_SIGNER_RATE_LIMITED");
    // Bob is another user: his own bucket.
    expect(await codeOf(hBob.fetchTicker("BTC/USDT"))).toBe("ok");
    expect(await health()).toBe(200);
    // Half a second at 2/s gives alice one token.
    clock += 500;
    expect(await codeOf(tick(1))).toBe("ok");
    expect(await codeOf(tick(1))).toBe("ERR_SIGNER_RATE_LIMITED");
    clock += 10_000;
    expect(await codeOf(tick(0))).toBe("ok");
  });
});
