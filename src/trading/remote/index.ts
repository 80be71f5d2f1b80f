/**
 * `keywarden/trading/remote`: the bot's side of the signer. The same {@link TradingHandle} as the
 * in-process `trading.handle(credentialId)`, with the same results and error codes, over the
 * signer's Unix socket (or loopback mutual TLS). It holds a capability, never a key: it loads
 * neither the vault, the audit log, ccxt nor a server framework.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { isKeywardenError, KeywardenError } from "../../errors.js";
import type { TradingHandle } from "../client.js";
import type { OrderLike } from "../exchange-like.js";
import { isAllowedMethod } from "../methods.js";
import { API, BOT_HEADER, errorFromReply } from "./protocol.js";

/** Options of {@link createRemoteTrading}. */
export interface RemoteTradingOptions {
  /** The signer's Unix socket, or `{ host, port, tls }` for loopback mutual TLS. */
  readonly signer:
    | { readonly socketPath: string }
    | {
        readonly host: string;
        readonly port: number;
        readonly tls: {
          readonly key: string | Buffer;
          readonly cert: string | Buffer;
          readonly ca: string | Buffer;
        };
      };
  /** The capability from enrolment (`kwcap_…`). Treat it as a secret: it is redacted from errors. */
  readonly capability: string;
  /** The bot id the capability is bound to. */
  readonly botId: string;
  /** Time per attempt in ms (default 15 000). */
  readonly timeoutMs?: number | undefined;
  /** How long to keep retrying a request the signer did not answer (default 30 000 ms). */
  readonly retryForMs?: number | undefined;
  /**
   * Most connections to the signer at once (default 32); further requests wait for a free one.
   * Without a bound, a burst opens one connection per request and overflows the socket's listen
   * backlog (`EAGAIN` on a Unix socket).
   */
  readonly maxConnections?: number | undefined;
}

/** The remote trading client. */
export interface RemoteTrading {
  /** A handle for one of the enrolled user's credentials: the in-process handle's interface. */
  handle(credentialId: string): TradingHandle;
  /** Fires the enrolled user's kill switch. */
  fireKillSwitch(reason: string): Promise<unknown>;
  /** Closes pooled connections. */
  close(): void;
}

/** Network failures where the request may be sent again (the body's client order id makes it safe). */
const RETRYABLE_NET = new Set([
  "EAGAIN",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOENT",
  "ETIMEDOUT",
  "EAI_AGAIN",
]);
const newClientOrderId = () => `kw${randomBytes(12).toString("hex")}`;
const wire = (args: readonly unknown[]) => args.map((a) => (a === undefined ? null : a));

/**
 * Creates the remote trading client. Order calls carry a fresh client order id that is also the
 * idempotency key: a retry after a timeout, a dropped connection or a signer restart sends the
 * same id, and the signer answers with the first outcome instead of placing a second order.
 *
 * @example
 * ```ts
 * const trading = createRemoteTrading({ signer: { socketPath: "/run/keywarden/signer.sock" }, capability, botId: "bot-1" });
 * const binance = trading.handle(credentialId);
 * await binance.createOrder("BTC/USDT", "limit", "buy", 0.01, 60000);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for invalid options. Calls throw the signer's
 * typed errors (the in-process codes), `ERR_SIGNER_UNAVAILABLE` when it stays unreachable, and
 * `ERR_SIGNER_PROTOCOL` for a reply that is not the signer's.
 */
export function createRemoteTrading(options: RemoteTradingOptions): RemoteTrading {
  if (
    typeof options.capability !== "string" ||
    !/^kwcap_[A-Za-z0-9_.-]{1,100}$/.test(options.capability)
  )
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "capability is malformed");
  if (typeof options.botId !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(options.botId))
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "botId is malformed");
  const s = options.signer;
  const tls = "tls" in s;
  const maxSockets = options.maxConnections ?? 32;
  if (!Number.isInteger(maxSockets) || maxSockets < 1)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "maxConnections must be a positive integer");
  const agent = tls
    ? new HttpsAgent({
        keepAlive: true,
        maxSockets,
        key: s.tls.key,
        cert: s.tls.cert,
        ca: s.tls.ca,
      })
    : new HttpAgent({ keepAlive: true, maxSockets });
  const timeoutMs = options.timeoutMs ?? 15_000;
  const retryForMs = options.retryForMs ?? 30_000;
  const auth = `Bearer ${options.capability}`;

  const once = (path: string, body: string) =>
    new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const req = (tls ? httpsRequest : httpRequest)(
        {
          ...("socketPath" in s ? { socketPath: s.socketPath } : { host: s.host, port: s.port }),
          agent,
          method: "POST",
          path,
          headers: {
            authorization: auth,
            [BOT_HEADER]: options.botId,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            try {
              resolve({
                status: res.statusCode ?? 0,
                json: JSON.parse(Buffer.concat(chunks).toString("utf8")),
              });
            } catch {
              reject(new KeywardenError("ERR_SIGNER_PROTOCOL", "the signer sent an invalid reply"));
            }
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
      );
      req.on("error", reject);
      req.end(body);
    });

  async function call(route: string, payload: unknown): Promise<unknown> {
    const body = JSON.stringify(payload);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      let reply: { status: number; json: unknown };
      try {
        reply = await once(`${API}/${route}`, body);
      } catch (err) {
        if (isKeywardenError(err)) throw err;
        const code = (err as { code?: string }).code ?? "";
        /* Postcondition: a transport failure reaches the bot as a typed error, never a raw one. */
        if (!RETRYABLE_NET.has(code) || Date.now() - started > retryForMs)
          throw new KeywardenError("ERR_SIGNER_UNAVAILABLE", "the signer did not answer", {
            details: { reason: code || "transport" },
          });
        await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        continue;
      }
      if (reply.status >= 200 && reply.status < 300) {
        if (typeof reply.json !== "object" || reply.json === null || !("result" in reply.json))
          throw new KeywardenError("ERR_SIGNER_PROTOCOL", "the signer sent an invalid reply");
        return (reply.json as { result: unknown }).result;
      }
      const e = errorFromReply(reply.json);
      /* Precondition: only "unavailable" answers are retried, with the same body (same client order id). */
      if (e.code === "ERR_SIGNER_UNAVAILABLE" && Date.now() - started <= retryForMs) {
        await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        continue;
      }
      throw e;
    }
  }

  const read = (credentialId: string, method: string, args: readonly unknown[]) =>
    call("call", { credentialId, method, args: wire(args) });

  return {
    handle(credentialId) {
      const target: TradingHandle = {
        createOrder: async (symbol, type, side, amount, price, params) =>
          (await call("orders", {
            credentialId,
            clientOrderId: newClientOrderId(),
            symbol,
            type,
            side,
            amount,
            ...(price === undefined ? {} : { price }),
            ...(params === undefined ? {} : { params }),
          })) as OrderLike,
        cancelOrder: (orderId, symbol) =>
          call("cancel", { credentialId, orderId, ...(symbol === undefined ? {} : { symbol }) }),
        cancelAllOrders: (symbol) =>
          call("cancel-all", { credentialId, ...(symbol === undefined ? {} : { symbol }) }),
        fetchOrder: (orderId, symbol) =>
          read(credentialId, "fetchOrder", [orderId, symbol]) as Promise<OrderLike>,
        fetchOpenOrders: (...a) => read(credentialId, "fetchOpenOrders", a) as Promise<OrderLike[]>,
        fetchMyTrades: (...a) => read(credentialId, "fetchMyTrades", a) as Promise<unknown[]>,
        fetchBalance: () => read(credentialId, "fetchBalance", []),
        fetchTicker: (symbol) => read(credentialId, "fetchTicker", [symbol]),
        fetchTickers: (symbols) => read(credentialId, "fetchTickers", [symbols]),
        fetchOrderBook: (symbol, limit) => read(credentialId, "fetchOrderBook", [symbol, limit]),
        fetchOHLCV: (...a) => read(credentialId, "fetchOHLCV", a),
        fetchTrades: (...a) => read(credentialId, "fetchTrades", a),
        fetchMarkets: () => read(credentialId, "fetchMarkets", []),
      };
      return new Proxy(target, {
        get: (t, name) => {
          if (typeof name === "symbol") return undefined;
          if (isAllowedMethod(name)) return t[name as keyof TradingHandle];
          // The signer refuses (and audits funds-moving names) exactly as in-process.
          return () => read(credentialId, name.slice(0, 128), []);
        },
        set: () => false,
        defineProperty: () => false,
        deleteProperty: () => false,
      });
    },
    fireKillSwitch: (reason) => call("killswitch", { reason }),
    close: () => agent.destroy(),
  };
}
