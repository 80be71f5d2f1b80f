import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAs } from "../../src/guard/context.js";
import { createRemoteTrading } from "../../src/trading/remote/index.js";
import { signerWorld } from "./world.js";

/**
 * A bot enrolled for alice, holding alice's capability, over the signer's real Unix socket, with
 * the real vault, audit log and ccxt against the exchange simulator.
 */
let w: Awaited<ReturnType<typeof signerWorld>>;
let cap: { capability: string; grantId: string; capabilityId: string };

beforeAll(async () => {
  w = await signerWorld();
  cap = await w.enrol(w.alice);
});
afterAll(async () => {
  await w?.close();
});

const remote = (capability = cap.capability, botId = "bot-a") =>
  createRemoteTrading({ signer: { socketPath: w.socketPath }, capability, botId, retryForMs: 0 });

/** Every bot route, as the remote handle exposes it. */
const ROUTES: Record<
  string,
  (h: ReturnType<ReturnType<typeof remote>["handle"]>) => Promise<unknown>
> = {
  createOrder: (h) => h.createOrder("BTC/USDT", "limit", "buy", 0.001, 59000),
  cancelOrder: (h) => h.cancelOrder("123", "BTC/USDT"),
  cancelAllOrders: (h) => h.cancelAllOrders("BTC/USDT"),
  fetchOrder: (h) => h.fetchOrder("123", "BTC/USDT"),
  fetchOpenOrders: (h) => h.fetchOpenOrders("BTC/USDT"),
  fetchMyTrades: (h) => h.fetchMyTrades("BTC/USDT"),
  fetchBalance: (h) => h.fetchBalance(),
  fetchTicker: (h) => h.fetchTicker("BTC/USDT"),
  fetchOrderBook: (h) => h.fetchOrderBook("BTC/USDT"),
};
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "no error";
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe("remote trading: same results as in-process", () => {
  it("places an order, reads it back and cancels it; the result has the in-process shape", async () => {
    const h = remote().handle(w.aliceBinance);
    w.sim.requests.clear();
    const order = await h.createOrder("BTC/USDT", "limit", "buy", 0.001, 59000);
    expect(order.id).toBeTruthy();
    expect(order.clientOrderId).toMatch(/^kw[0-9a-f]{24}$/);
    const local = await runAs(
      cap && (await w.vault.resumeGrant(w.alice, "alice", cap.grantId)),
      () => w.trading.handle(w.aliceBinance).fetchOrder(order.id, "BTC/USDT"),
    );
    const viaSigner = await h.fetchOrder(order.id, "BTC/USDT");
    expect(Object.keys(viaSigner).sort()).toEqual(
      Object.keys(JSON.parse(JSON.stringify(local))).sort(),
    );
    expect(viaSigner.id).toBe(local.id);
    await h.cancelOrder(order.id, "BTC/USDT");
    expect(w.sim.requests.count({ endpoint: "POST /api/v3/order" })).toBe(1);
  });

  it("a refused method has the in-process code, and a withdraw attempt is audited", async () => {
    const rogue = remote().handle(w.aliceBinance) as unknown as {
      withdraw: () => Promise<unknown>;
    };
    expect(await codeOf(rogue.withdraw())).toBe("ERR_TRADING_METHOD_REFUSED");
    const actions: string[] = [];
    for await (const e of w.audit.readEntries("user:alice"))
      actions.push((JSON.parse(e.body) as { action: string }).action);
    expect(actions).toContain("trading.refused");
  });

  it("an invalid order gets the in-process ERR_INVALID_ARGUMENT", async () => {
    const h = remote().handle(w.aliceBinance);
    expect(await codeOf(h.createOrder("BTC/USDT", "limit", "buy", -1, 59000))).toBe(
      "ERR_INVALID_ARGUMENT",
    );
    expect(await codeOf(h.createOrder("BTC/USDT", "limit", "buy", 1))).toBe("ERR_INVALID_ARGUMENT");
  });
});

describe("every route × every violation is refused", () => {
  const routes = Object.entries(ROUTES);

  it.each(routes)("%s on bob's credential: ERR_GUARD_NOT_FOUND, nothing sent", async (_n, call) => {
    w.sim.requests.clear();
    expect(await codeOf(call(remote().handle(w.bobBinance)))).toBe("ERR_GUARD_NOT_FOUND");
    expect(w.sim.requests.all().filter((r) => r.apiKey !== undefined)).toEqual([]);
  });

  it.each(routes)(
    "%s on an exchange outside the grant: ERR_VAULT_GRANT_SCOPE",
    async (_n, call) => {
      w.sim.requests.clear();
      expect(await codeOf(call(remote().handle(w.aliceBybit)))).toBe("ERR_VAULT_GRANT_SCOPE");
      expect(w.sim.requests.all()).toEqual([]);
    },
  );

  it.each(routes)(
    "%s with another bot id, a forged or a malformed capability: ERR_GUARD_UNAUTHENTICATED",
    async (_n, call) => {
      const forged = `${cap.capability.slice(0, -4)}AAAA`;
      for (const client of [remote(cap.capability, "bot-b"), remote(forged), remote("kwcap_x")]) {
        expect(await codeOf(call(client.handle(w.aliceBinance)))).toBe("ERR_GUARD_UNAUTHENTICATED");
      }
    },
  );

  it("an action outside the grant (read-only grant places no order)", async () => {
    const readOnly = await w.enrol(w.alice, { botId: "bot-ro", actions: ["read"] });
    const h = remote(readOnly.capability, "bot-ro").handle(w.aliceBinance);
    for (const name of ["createOrder", "cancelOrder", "cancelAllOrders"]) {
      expect(await codeOf((ROUTES[name] as (x: typeof h) => Promise<unknown>)(h))).toBe(
        "ERR_VAULT_GRANT_SCOPE",
      );
    }
    expect(await codeOf(h.fetchBalance())).toBe("no error");
  });

  it.each(routes)("%s after the grant is revoked: ERR_VAULT_GRANT_REVOKED", async (_n, call) => {
    const e = await w.enrol(w.alice, { botId: "bot-r" });
    await w.vault.revokeGrant(w.alice, { grantId: e.grantId });
    expect(await codeOf(call(remote(e.capability, "bot-r").handle(w.aliceBinance)))).toBe(
      "ERR_VAULT_GRANT_REVOKED",
    );
  });

  it.each(routes)("%s after the grant expires: refused", async (_n, call) => {
    const e = await w.enrol(w.alice, { botId: "bot-x", ttlMs: 50 });
    await new Promise((r) => setTimeout(r, 80));
    expect(await codeOf(call(remote(e.capability, "bot-x").handle(w.aliceBinance)))).toBe(
      "ERR_GUARD_UNAUTHENTICATED",
    );
  });

  it.each(routes)("%s after the operator revokes the capability: refused", async (_n, call) => {
    const e = await w.enrol(w.alice, { botId: "bot-o" });
    const r = await w.raw("/v1/operator/revoke", JSON.stringify({ capabilityId: e.capabilityId }), {
      authorization: `Bearer ${w.operatorToken}`,
    });
    expect(r.status).toBe(200);
    expect(await codeOf(call(remote(e.capability, "bot-o").handle(w.aliceBinance)))).toBe(
      "ERR_GUARD_UNAUTHENTICATED",
    );
  });

  it("the kill switch blocks orders (fired by the bot; released only by the operator)", async () => {
    const client = remote();
    // alice's bybit account is outside this grant: as in-process, the switch is set and the
    // uncancelable account is reported.
    expect(await codeOf(client.fireKillSwitch("test stop"))).toBe("ERR_TRADING_PARTIAL_CANCEL");
    const h = client.handle(w.aliceBinance);
    expect(await codeOf(h.createOrder("BTC/USDT", "limit", "buy", 0.001, 59000))).toBe(
      "ERR_TRADING_KILL_SWITCH_ACTIVE",
    );
    const noAuth = await w.raw(
      "/v1/operator/killswitch",
      JSON.stringify({ userId: "alice", reason: "x", release: true }),
      {
        authorization: `Bearer ${cap.capability}`,
      },
    );
    expect(noAuth.status).toBe(401);
    const ok = await w.raw(
      "/v1/operator/killswitch",
      JSON.stringify({ userId: "alice", reason: "resume", release: true }),
      {
        authorization: `Bearer ${w.operatorToken}`,
      },
    );
    expect(ok.status).toBe(200);
    expect(await codeOf(h.createOrder("BTC/USDT", "limit", "buy", 0.001, 59000))).toBe("no error");
  });

  it("order methods cannot be reached through the read route", async () => {
    w.sim.requests.clear();
    for (const method of ["createOrder", "cancelOrder", "cancelAllOrders"]) {
      const r = await w.raw(
        "/v1/call",
        JSON.stringify({ credentialId: w.aliceBinance, method, args: [] }),
        { authorization: `Bearer ${cap.capability}`, "x-keywarden-bot": "bot-a" },
      );
      expect((r.json as { error: { code: string } }).error.code).toBe("ERR_INVALID_ARGUMENT");
    }
    expect(w.sim.requests.all()).toEqual([]);
  });

  it("operator routes refuse a bot capability and no credential", async () => {
    for (const route of ["killswitch", "emergency", "revoke", "metrics"]) {
      for (const headers of [
        {},
        { authorization: `Bearer ${cap.capability}`, "x-keywarden-bot": "bot-a" },
      ]) {
        const r = await w.raw(`/v1/operator/${route}`, "{}", headers);
        expect(r.status).toBe(401);
        expect((r.json as { error: { code: string } }).error.code).toBe(
          "ERR_GUARD_UNAUTHENTICATED",
        );
      }
    }
  });
});

describe("canaries", () => {
  it("no secret, capability or operator token appears in any log line, response or file", async () => {
    expect(w.logs.length).toBeGreaterThan(10);
    expect(w.responses.length).toBeGreaterThan(10);
    const haystacks = [...w.logs, ...w.responses, ...w.files()];
    for (const secret of w.secrets) {
      for (const h of haystacks) expect(h.includes(secret)).toBe(false);
    }
    // The capability store holds hashes, never the bearer's secret half.
    const verifierOnly = w.files().join("\n");
    expect(verifierOnly).toContain(cap.capabilityId);
  });
});
