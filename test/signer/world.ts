import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet } from "jose";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import type { Identity } from "../../src/guard/identity.js";
import { createSessionVerifier } from "../../src/guard/session.js";
import { startExchangeSimulator } from "../../src/permissions/testing/index.js";
import { Secret } from "../../src/secret.js";
import { openFileCapabilityStore } from "../../src/signer/capabilities.js";
import { createSignerServer, type SignerServer } from "../../src/signer/http.js";
import type { RateLimit } from "../../src/signer/limits.js";
import { ccxtExchangeFactory } from "../../src/trading/ccxt.js";
import { createTradingClient } from "../../src/trading/client.js";
import { createMemoryTradingState } from "../../src/trading/state.js";
import { emergencyVaultOps } from "../../src/vault/core/emergency.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { AUDIENCE, canary, ISSUER, localKms, makeIdp } from "../vault/helpers.js";

/** A signer on a Unix socket in a temp dir, real vault/audit/ccxt against the exchange simulator. */
export async function signerWorld(
  options: {
    limits?: { perBot?: RateLimit; perUser?: RateLimit };
    now?: () => number;
    /** Awaited before each order request reaches the simulator (to hold an order in flight). */
    holdOrders?: () => Promise<void>;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "kw-signer-"));
  const sim = await startExchangeSimulator();
  const idp = await makeIdp();
  const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
  const audit = new AuditLog({ store: createMemoryAuditStore() });
  const state = createMemoryTradingState();
  const trading = createTradingClient({
    vault,
    audit,
    state,
    exchanges: ccxtExchangeFactory({
      config: (ex) => {
        const o = sim.ccxtOptions(ex as "binance");
        const hold = options.holdOrders;
        if (!hold) return { ...o };
        return {
          fetchImplementation: async (...a: Parameters<typeof o.fetchImplementation>) => {
            if (a[1].method === "POST" && a[0].includes("/api/v3/order")) await hold();
            return o.fetchImplementation(...a);
          },
        };
      },
    }),
  });
  const secrets: string[] = [];
  const key = async (who: Identity, exchange: "binance" | "bybit") => {
    const apiKey = `key-${canary()}`;
    const secret = canary();
    secrets.push(apiKey, secret);
    sim.setKey(exchange, { apiKey, secret, permissions: { read: true, trade: true } });
    return (await vault.store(who, { exchange, credentials: { apiKey, secret } })).credentialId;
  };
  const alice = await idp.session("alice");
  const bob = await idp.session("bob");
  const aliceBinance = await key(alice, "binance");
  const aliceBybit = await key(alice, "bybit");
  const bobBinance = await key(bob, "binance");
  const operatorToken = canary();
  secrets.push(operatorToken);
  const logs: string[] = [];
  const socketPath = join(dir, "signer.sock");
  const capabilities = await openFileCapabilityStore(join(dir, "capabilities.json"));
  const start = () =>
    createSignerServer({
      vault,
      audit,
      trading,
      state,
      capabilities,
      sessions: createSessionVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ["ES256"],
        key: createLocalJWKSet(idp.jwks as never),
      }),
      operator: { id: "ops", token: Secret.fromString(operatorToken) },
      emergency: emergencyVaultOps(vault),
      limits: options.limits ?? {
        perBot: { perSecond: 1e6, burst: 1e6 },
        perUser: { perSecond: 1e6, burst: 1e6 },
      },
      ...(options.now ? { now: options.now } : {}),
      listen: { socketPath },
      log: { write: (l: string) => logs.push(l) },
    });
  let server: SignerServer = await start();
  const responses: string[] = [];

  /** One raw request over the socket; every response body is kept for the canary check. */
  const raw = (
    path: string,
    body: string | undefined,
    headers: Record<string, string> = {},
    method = "POST",
  ) =>
    new Promise<{ status: number; text: string; json: unknown }>((resolve, reject) => {
      const req = request(
        {
          socketPath,
          method,
          path,
          headers: {
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            responses.push(text);
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, text, json });
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  const enrol = async (
    who: Identity,
    o: { botId?: string; exchanges?: string[]; actions?: string[]; ttlMs?: number } = {},
  ) => {
    const e = await server.enrol(who, {
      botId: o.botId ?? "bot-a",
      exchanges: o.exchanges ?? ["binance"],
      actions: o.actions ?? ["trade", "cancel", "read"],
      ttlMs: o.ttlMs ?? 3_600_000,
    });
    secrets.push(e.capability);
    return e;
  };

  /** Every file under the signer's directory, as text. */
  const files = () =>
    readdirSync(dir)
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).isFile())
      .map((f) => readFileSync(f, "utf8"));

  return {
    dir,
    sim,
    vault,
    audit,
    state,
    trading,
    idp,
    alice,
    bob,
    aliceBinance,
    aliceBybit,
    bobBinance,
    operatorToken,
    socketPath,
    logs,
    responses,
    secrets,
    raw,
    enrol,
    files,
    get server() {
      return server;
    },
    async restart() {
      await server.close();
      server = await start();
    },
    async close() {
      await server.close();
      await sim.close();
    },
  };
}
