import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userChainId } from "../../src/audit/core/entry.js";
import { ERROR_CODES } from "../../src/errors.js";
import { signerWorld } from "./world.js";

let w: Awaited<ReturnType<typeof signerWorld>>;
let headers: Record<string, string>;

beforeAll(async () => {
  w = await signerWorld();
  const cap = await w.enrol(w.alice);
  headers = { authorization: `Bearer ${cap.capability}`, "x-keywarden-bot": "bot-a" };
});
afterAll(async () => {
  await w?.close();
});

const order = (clientOrderId: string, amount = 0.001) =>
  JSON.stringify({
    credentialId: w.aliceBinance,
    clientOrderId,
    symbol: "BTC/USDT",
    type: "limit",
    side: "buy",
    amount,
    price: 59000,
  });
const placedAtExchange = () => w.sim.requests.count({ endpoint: "POST /api/v3/order" });
const idOf = (r: { json: unknown }) => (r.json as { result: { id: string } }).result.id;
const codeOf = (r: { json: unknown }) => (r.json as { error?: { code: string } }).error?.code;

describe("client order ids are idempotency keys, end to end", () => {
  it("concurrent retries of one client order id place one order and all get it", async () => {
    w.sim.requests.clear();
    const replies = await Promise.all(
      Array.from({ length: 6 }, () =>
        w.raw("/v1/orders", order("kwsame000000000000000001"), headers),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(replies.map(idOf)).size).toBe(1);
    expect(placedAtExchange()).toBe(1);
  });

  it("a retry after a signer restart returns the placed order, re-read from the exchange, without a second order", async () => {
    const first = await w.raw("/v1/orders", order("kwrestart000000000000001"), headers);
    expect(first.status).toBe(200);
    await w.restart();
    w.sim.requests.clear();
    const again = await w.raw("/v1/orders", order("kwrestart000000000000001"), headers);
    expect(again.status).toBe(200);
    expect(idOf(again)).toBe(idOf(first));
    expect(placedAtExchange()).toBe(0);
  });

  it("an intent whose order never reached the exchange is closed as not sent", async () => {
    // What a SIGKILL between the write-ahead intent and the exchange call leaves behind.
    await w.audit.appendEntry(userChainId("alice"), {
      actor: w.alice,
      action: "order.intent",
      payload: {
        exchange: "binance",
        symbol: "BTC/USDT",
        side: "buy",
        type: "limit",
        amount: "0.001",
        price: "59000",
        clientOrderId: "kwghost00000000000000001",
      },
    });
    await w.restart();
    w.sim.requests.clear();
    const r = await w.raw("/v1/orders", order("kwghost00000000000000001"), headers);
    expect(r.status).toBe(422);
    expect(codeOf(r)).toBe("ERR_SIGNER_ORDER_NOT_SENT");
    const again = await w.raw("/v1/orders", order("kwghost00000000000000001"), headers);
    expect(codeOf(again)).toBe("ERR_SIGNER_ORDER_NOT_SENT");
    expect(placedAtExchange()).toBe(0);
    // The outcome is in the audit log too: the intent is closed, once.
    const closed: unknown[] = [];
    for await (const e of w.audit.readEntries(userChainId("alice"))) {
      const value = e.payload
        ? (JSON.parse(e.payload) as { value: Record<string, unknown> }).value
        : {};
      if (
        (JSON.parse(e.body) as { action: string }).action === "order.failed" &&
        value.clientOrderId === "kwghost00000000000000001"
      )
        closed.push(value.code);
    }
    expect(closed).toEqual(["ERR_SIGNER_ORDER_NOT_SENT"]);
  });

  it("a client order id already in flight or in the journal is never sent again", async () => {
    const before = placedAtExchange();
    // In flight: three copies at once; then from the journal: two more after it was placed.
    const concurrent = await Promise.all(
      [1, 2, 3].map(() => w.raw("/v1/orders", order("kwonce00000000000000001"), headers)),
    );
    const later = [
      await w.raw("/v1/orders", order("kwonce00000000000000001"), headers),
      await w.raw("/v1/orders", order("kwonce00000000000000001"), headers),
    ];
    const all = [...concurrent, ...later];
    for (const r of all) expect(r.status).toBe(200);
    expect(new Set(all.map(idOf)).size).toBe(1);
    expect(placedAtExchange() - before).toBe(1);
  });

  it("a client order id reused for a different order is refused", async () => {
    await w.raw("/v1/orders", order("kwconflict00000000000001"), headers);
    const r = await w.raw("/v1/orders", order("kwconflict00000000000001", 0.002), headers);
    expect(r.status).toBe(409);
    expect(codeOf(r)).toBe("ERR_SIGNER_IDEMPOTENCY_CONFLICT");
  });
});

describe("malformed and oversized requests", () => {
  it("an oversized body gets 413 ERR_SIGNER_REQUEST_TOO_LARGE", async () => {
    const r = await w.raw("/v1/orders", JSON.stringify({ x: "a".repeat(20_000) }), headers);
    expect(r.status).toBe(413);
    expect(codeOf(r)).toBe("ERR_SIGNER_REQUEST_TOO_LARGE");
  });

  it("unknown fields are refused (strict schemas)", async () => {
    const body = JSON.parse(order("kwstrict0000000000000001")) as Record<string, unknown>;
    const r = await w.raw("/v1/orders", JSON.stringify({ ...body, clientOrderIdX: 1 }), headers);
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe("ERR_INVALID_ARGUMENT");
  });

  it("5000 fuzzed requests all get a typed 4xx, and the service stays up", async () => {
    const paths = [
      "/v1/orders",
      "/v1/cancel",
      "/v1/cancel-all",
      "/v1/call",
      "/v1/enrolments",
      "/v1/operator/killswitch",
      "/v1/operator/revoke",
      "/v1/nope",
    ];
    const valid = JSON.parse(order("kwfuzz000000000000000001")) as Record<string, unknown>;
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc
        .record({ key: fc.constantFrom(...Object.keys(valid), "extra"), value: fc.jsonValue() })
        .map(({ key, value }) => JSON.stringify({ ...valid, credentialId: "nope", [key]: value })),
      fc
        .record({
          method: fc.string({ maxLength: 40 }),
          args: fc.array(fc.jsonValue(), { maxLength: 5 }),
        })
        .map((b) => JSON.stringify({ credentialId: w.aliceBybit, ...b })),
    );
    const auth = fc.constantFrom<Record<string, string>>(
      headers,
      {},
      { authorization: "Bearer x" },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), body, auth, async (path, b, h) => {
        const r = await w.raw(path, b, h);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(ERROR_CODES).toContain(codeOf(r));
      }),
      { numRuns: 5000 },
    );
    const health = await w.raw("/healthz", undefined, {}, "GET");
    expect(health.status).toBe(200);
    for (const secret of w.secrets) {
      for (const line of [...w.logs, ...w.responses]) expect(line.includes(secret)).toBe(false);
    }
  }, 120_000);
});
