import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isKeywardenError } from "../../src/errors.js";
import { createRemoteTrading } from "../../src/trading/remote/index.js";
import { signerWorld } from "./world.js";

/**
 * One test per `Precondition:` / `Postcondition:` comment in src/signer and src/trading/remote,
 * titled with its sentence, each against the real signer over its Unix socket (or, for the
 * client's own invariants, a scripted peer on a socket).
 */
type World = Awaited<ReturnType<typeof signerWorld>>;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close().catch(() => {});
});
const world = async (o: Parameters<typeof signerWorld>[0] = {}) => {
  const w = await signerWorld(o);
  open.push(w);
  return w;
};
const bot = (cap: string, botId = "bot-a") => ({
  authorization: `Bearer ${cap}`,
  "x-keywarden-bot": botId,
});
const codeOf = (r: { json: unknown }) => (r.json as { error?: { code: string } }).error?.code;
const orderBody = (w: World, clientOrderId: string) =>
  JSON.stringify({
    credentialId: w.aliceBinance,
    clientOrderId,
    symbol: "BTC/USDT",
    type: "limit",
    side: "buy",
    amount: 0.001,
    price: 59000,
  });
const balance = (w: World, credentialId = w.aliceBinance) =>
  JSON.stringify({ credentialId, method: "fetchBalance", args: [] });
const placed = (w: World) => w.sim.requests.count({ endpoint: "POST /api/v3/order" });

/** A gate the signer's order requests wait at; `reached` resolves when one is waiting. */
function gate() {
  let open = false;
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = () => {
      open = true;
      r();
    };
  });
  let reached!: () => void;
  const waiting = new Promise<void>((r) => {
    reached = r;
  });
  return {
    hold: async () => {
      if (open) return;
      reached();
      await released;
    },
    waiting,
    release,
  };
}

describe("signer invariants", () => {
  it("a capability is honoured only for its bot, on its bound certificate, while live", async () => {
    let clock = Date.now();
    const w = await world({ now: () => clock });
    const a = await w.enrol(w.alice, { botId: "bot-a" });
    const call = (cap: string, botId = "bot-a") => w.raw("/v1/call", balance(w), bot(cap, botId));
    expect((await call(a.capability)).status).toBe(200);
    // Another bot id with the same capability.
    expect(codeOf(await call(a.capability, "bot-z"))).toBe("ERR_GUARD_UNAUTHENTICATED");
    // Bound to a certificate: the Unix socket has none, so it is never honoured here.
    const bound = await w.server.enrol(w.alice, {
      botId: "bot-a",
      exchanges: ["binance"],
      actions: ["read"],
      ttlMs: 3_600_000,
      certFingerprint: "ab".repeat(32),
    });
    expect(codeOf(await call(bound.capability))).toBe("ERR_GUARD_UNAUTHENTICATED");
    // Past its expiry on the signer's clock (the vault's grant itself is still live).
    const short = await w.enrol(w.alice, { botId: "bot-a", ttlMs: 60_000 });
    expect((await call(short.capability)).status).toBe(200);
    expect(short.expiresAt).toBeLessThan(clock + 3_600_000);
    clock = short.expiresAt; // the grant's expiry, carried by the capability
    expect(codeOf(await call(short.capability))).toBe("ERR_GUARD_UNAUTHENTICATED");
    // Revoked by the operator.
    expect((await call(a.capability)).status).toBe(200);
    const revoke = await w.raw(
      "/v1/operator/revoke",
      JSON.stringify({ capabilityId: a.capabilityId }),
      { authorization: `Bearer ${w.operatorToken}` },
    );
    expect(revoke.status).toBe(200);
    expect(codeOf(await call(a.capability))).toBe("ERR_GUARD_UNAUTHENTICATED");
  });

  it("a bot acts only on its grant's exchanges, and only for its grant's actions", async () => {
    const w = await world();
    const readOnly = await w.enrol(w.alice, { exchanges: ["binance"], actions: ["read"] });
    const h = bot(readOnly.capability);
    expect((await w.raw("/v1/call", balance(w), h)).status).toBe(200);
    // An action outside the grant: trade.
    const order = await w.raw("/v1/orders", orderBody(w, "kwscope0000000000000001"), h);
    expect([order.status, codeOf(order)]).toEqual([403, "ERR_VAULT_GRANT_SCOPE"]);
    // An exchange outside the grant: alice's bybit credential.
    const bybit = await w.raw("/v1/call", balance(w, w.aliceBybit), h);
    expect([bybit.status, codeOf(bybit)]).toEqual([403, "ERR_VAULT_GRANT_SCOPE"]);
    expect(placed(w)).toBe(0);
  });

  it("order methods are reachable only through their own routes and actions", async () => {
    const w = await world();
    const readOnly = await w.enrol(w.alice, { actions: ["read"] });
    for (const method of ["createOrder", "cancelOrder", "cancelAllOrders"]) {
      const r = await w.raw(
        "/v1/call",
        JSON.stringify({ credentialId: w.aliceBinance, method, args: ["BTC/USDT"] }),
        bot(readOnly.capability),
      );
      expect([r.status, codeOf(r)]).toEqual([400, "ERR_INVALID_ARGUMENT"]);
    }
    expect(placed(w)).toBe(0);
    expect(w.sim.requests.count({ endpoint: "DELETE /api/v3/order" })).toBe(0);
  });

  it("once shutdown starts, new requests are refused; in-flight ones finish", async () => {
    const g = gate();
    const w = await world({ holdOrders: g.hold });
    const cap = await w.enrol(w.alice);
    const inFlight = w.raw(
      "/v1/orders",
      orderBody(w, "kwdrain0000000000000001"),
      bot(cap.capability),
    );
    await g.waiting;
    const closing = w.server.close();
    // Shutdown has started: a new bot request is refused, typed, with the connection closed.
    const refused = await w.raw("/v1/call", balance(w), bot(cap.capability));
    expect([refused.status, codeOf(refused)]).toEqual([503, "ERR_SIGNER_UNAVAILABLE"]);
    // The liveness probe still answers while draining.
    expect((await w.raw("/healthz", undefined, {}, "GET")).status).toBe(200);
    g.release();
    const done = await inFlight;
    expect(done.status).toBe(200);
    await closing;
    expect(placed(w)).toBe(1);
  });

  it("orders that were accepted before shutdown finish before the process closes", async () => {
    const g = gate();
    const w = await world({ holdOrders: g.hold });
    const cap = await w.enrol(w.alice);
    const inFlight = w.raw(
      "/v1/orders",
      orderBody(w, "kwdrain0000000000000002"),
      bot(cap.capability),
    );
    await g.waiting;
    let closed = false;
    const closing = w.server.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false); // held: the accepted order has not finished yet
    g.release();
    const reply = await inFlight;
    await closing;
    expect(reply.status).toBe(200);
    // The order reached the exchange and its outcome is in the audit chain before close resolved.
    expect(w.sim.requests.count({ endpoint: "POST /api/v3/order", outcome: "ok" })).toBe(1);
    const actions: string[] = [];
    for await (const e of w.audit.readEntries("user:alice"))
      actions.push((JSON.parse(e.body) as { action: string }).action);
    expect(actions.filter((a) => a === "order.placed")).toHaveLength(1);
  });
});

/** A scripted peer on a Unix socket: answers each request with the next of `replies`. */
async function scriptedPeer(
  replies: Array<{ status: number; body: string } | "hang-up" | "garbage">,
) {
  const socketPath = join(mkdtempSync(join(tmpdir(), "kw-peer-")), "peer.sock");
  const bodies: string[] = [];
  const sockets = new Set<unknown>();
  let i = 0;
  const server: Server = createServer((req, res) => {
    sockets.add(req.socket);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      const r = replies[Math.min(i++, replies.length - 1)];
      if (r === "hang-up") req.socket.destroy();
      else if (r === "garbage") req.socket.end("this is not HTTP\r\n\r\n");
      else res.writeHead(r?.status ?? 500, { "content-type": "application/json" }).end(r?.body);
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  const peer = {
    socketPath,
    bodies,
    sockets,
    client: (o: { retryForMs?: number; maxConnections?: number } = {}) =>
      createRemoteTrading({
        signer: { socketPath },
        capability: "kwcap_AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        botId: "bot-a",
        retryForMs: o.retryForMs ?? 5_000,
        ...(o.maxConnections === undefined ? {} : { maxConnections: o.maxConnections }),
      }).handle("cred-1"),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  open.push(peer);
  return peer;
}
const unavailable = JSON.stringify({
  error: { code: "ERR_SIGNER_UNAVAILABLE", message: "the signer is shutting down" },
});
const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
};

describe("remote client invariants", () => {
  it("a transport failure reaches the bot as a typed error, never a raw one", async () => {
    // Nothing listening at the path (ENOENT), a peer that hangs up (ECONNRESET), a peer that
    // answers bytes that are not HTTP (a parser error).
    const nowhere = join(mkdtempSync(join(tmpdir(), "kw-none-")), "absent.sock");
    const none = await errorOf(
      createRemoteTrading({
        signer: { socketPath: nowhere },
        capability: "kwcap_AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        botId: "bot-a",
        retryForMs: 50,
      })
        .handle("cred-1")
        .fetchBalance(),
    );
    const hangUp = await errorOf(
      (await scriptedPeer(["hang-up"])).client({ retryForMs: 50 }).fetchBalance(),
    );
    const garbage = await errorOf((await scriptedPeer(["garbage"])).client().fetchBalance());
    const reasons: string[] = [];
    for (const err of [none, hangUp, garbage]) {
      expect(isKeywardenError(err, "ERR_SIGNER_UNAVAILABLE")).toBe(true);
      reasons.push(String((err as { details?: { reason?: unknown } }).details?.reason));
    }
    expect(reasons.slice(0, 2)).toEqual(["ENOENT", "ECONNRESET"]);
    expect(reasons[2]).toMatch(/^HPE_/);
  });

  it('only "unavailable" answers are retried, with the same body (same client order id)', async () => {
    const order = {
      id: "1",
      clientOrderId: "x",
      symbol: "BTC/USDT",
      status: "open",
    };
    const retried = await scriptedPeer([
      { status: 503, body: unavailable },
      { status: 503, body: unavailable },
      { status: 200, body: JSON.stringify({ result: order }) },
    ]);
    expect(await retried.client().createOrder("BTC/USDT", "limit", "buy", 0.001, 59000)).toEqual(
      order,
    );
    expect(retried.bodies).toHaveLength(3);
    expect(new Set(retried.bodies).size).toBe(1);
    expect(
      (JSON.parse(retried.bodies[0] as string) as { clientOrderId: string }).clientOrderId,
    ).toMatch(/^kw[0-9a-f]{24}$/);
    // Any other typed answer is final: one request, the error as sent.
    for (const [status, code] of [
      [429, "ERR_SIGNER_RATE_LIMITED"],
      [409, "ERR_TRADING_KILL_SWITCH_ACTIVE"],
      [502, "ERR_TRADING_EXCHANGE_ERROR"],
    ] as const) {
      const peer = await scriptedPeer([
        { status, body: JSON.stringify({ error: { code, message: "no" } }) },
        { status: 200, body: JSON.stringify({ result: order }) },
      ]);
      const err = await errorOf(peer.client().createOrder("BTC/USDT", "limit", "buy", 0.001, 1));
      expect(isKeywardenError(err, code)).toBe(true);
      expect(peer.bodies).toHaveLength(1);
    }
  });

  it("a burst shares at most maxConnections connections to the signer", async () => {
    const peer = await scriptedPeer([{ status: 200, body: JSON.stringify({ result: {} }) }]);
    const h = peer.client({ maxConnections: 3 });
    await Promise.all(Array.from({ length: 60 }, () => h.fetchBalance()));
    expect(peer.bodies).toHaveLength(60);
    expect(peer.sockets.size).toBeGreaterThan(0);
    expect(peer.sockets.size).toBeLessThanOrEqual(3);
    expect(() => peer.client({ maxConnections: 0 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});
