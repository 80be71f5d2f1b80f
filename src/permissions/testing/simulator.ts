import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { KeywardenError } from "../../errors.js";
import { ccxtOptionsFor, pointUrlTree } from "./ccxt-pointing.js";
import type { AuthFailure, RegisteredKey, SimRequest, SimResponse } from "./exchange-spec.js";
import { SpotMarket, toUnits } from "./exchanges/binance-market.js";
import { buildSpecs } from "./exchanges/index.js";
import { FaultQueue } from "./faults.js";
import { lowerHeaders, parseTarget, readBody, remoteAddress, send } from "./http-io.js";
import { parseExchangeId, parseKeyInput } from "./keys.js";
import { MemoryRequestLog } from "./request-log.js";
import type {
  CcxtSimulatorOptions,
  Fault,
  RecordedRequest,
  RequestLog,
  SimulatedExchangeId,
  SimulatedKeyInput,
} from "./types.js";
import { SIMULATED_EXCHANGES } from "./types.js";

/** Options of {@link startExchangeSimulator}. */
export interface ExchangeSimulatorOptions {
  /** Port to listen on; 0 (default) picks a free one. The host is always 127.0.0.1. */
  readonly port?: number;
  /** The simulator's clock in ms since the epoch (default `Date.now`), for stale-timestamp tests. */
  readonly now?: () => number;
}

/**
 * A running simulator. Close it when done.
 *
 * @example
 * ```ts
 * const sim = await startExchangeSimulator();
 * sim.setKey("bybit", { apiKey: "k", secret: "s", permissions: { trade: true, withdraw: true } });
 * sim.inject({ exchange: "bybit", kind: "rate-limit", times: 2 });
 * // … run the code under test with a ccxt bybit built from sim.ccxtOptions("bybit") …
 * sim.requests.count({ exchange: "bybit", endpoint: "GET /v5/user/query-api" }); // exact call count
 * await sim.close();
 * ```
 */
export interface ExchangeSimulator {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /**
   * The simulator's root for one exchange, `<baseUrl>/<exchangeId>`; requests go to
   * `<root>/<exchange host>/<path>`, e.g. `<root>/api.binance.com/api/v3/ping`.
   *
   * @throws KeywardenError `ERR_INVALID_ARGUMENT` for an unknown exchange id.
   */
  url(exchange: SimulatedExchangeId): string;
  /**
   * Options to spread into a ccxt exchange constructor. They replace only the transport
   * (`fetchImplementation`): ccxt still builds the real `https://` URL, signs it with the real key
   * and maps errors by the real URL. Works for all 20 exchanges.
   *
   * @throws KeywardenError `ERR_INVALID_ARGUMENT` for an unknown exchange id; the returned function
   *   rejects URLs that are not `https://` without a port.
   */
  ccxtOptions(exchange: SimulatedExchangeId): CcxtSimulatorOptions;
  /**
   * The other pointing method (reference §4a): rewrites every `https://` URL of an instance's
   * `urls.api` to the simulator, in place. It does NOT work for coinbase (the JWT `uri` claim
   * covers the host) and bitstamp (the X-Auth signature covers the host); it works for the other 16
   * it is tested on. Untested for lbank and hyperliquid: use {@link ExchangeSimulator.ccxtOptions}.
   *
   * @throws KeywardenError `ERR_INVALID_ARGUMENT` for an unknown exchange id.
   */
  pointUrls(exchange: SimulatedExchangeId, instance: { urls: { api?: unknown } }): void;
  /** Every request received (no secrets, signatures or passphrases), with filtered counts. */
  readonly requests: RequestLog;
  /**
   * Registers a test key, or replaces the key with the same `apiKey` (fresh order book), e.g. to
   * widen its permissions after onboarding.
   *
   * @throws KeywardenError `ERR_INVALID_ARGUMENT` for an invalid registration (never echoing it),
   *   or a missing passphrase on okx, kucoin or bitget.
   */
  setKey(exchange: SimulatedExchangeId, key: SimulatedKeyInput): void;
  /**
   * Binance spot only: the last price (`"BTC/USDT"` or `"BTCUSDT"`, decimal string) that market
   * orders fill at and the ticker reports. Defaults: BTC/USDT 60000, ETH/USDT 3000.
   *
   * @throws KeywardenError `ERR_INVALID_ARGUMENT` for another symbol or an invalid price.
   */
  setLastPrice(symbol: string, price: string): void;
  /**
   * Applies a fault to the next `fault.times` (default 1) requests matching its exchange and
   * optional endpoint, before any signature check.
   *
   * @throws KeywardenError `ERR_INVALID_ARGUMENT` for an invalid fault.
   */
  inject(fault: Fault): void;
  /** Drops every pending fault. */
  clearFaults(): void;
  /** Stops listening and drops every connection, including hanging (timeout-fault) ones. */
  close(): Promise<void>;
}

const faultSchema = z.strictObject({
  exchange: z.enum(SIMULATED_EXCHANGES),
  kind: z.enum([
    "timeout",
    "server-error",
    "malformed-json",
    "error-body-200",
    "rate-limit",
    "ip-not-allowed",
    "custom",
  ]),
  endpoint: z
    .string()
    .regex(/^[A-Z]+ \/\S*$/)
    .optional(),
  times: z.number().int().min(1).max(10_000).optional(),
  status: z.number().int().min(100).max(599).optional(),
  body: z.unknown().optional(),
});

const optionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  now: z.custom<() => number>((v) => typeof v === "function").optional(),
});

/**
 * Starts the local exchange simulator on 127.0.0.1.
 *
 * It verifies the real signatures ccxt computes (per exchange: HMAC variants, the OKX and KuCoin
 * passphrases, Coinbase's ES256 JWT), answers each exchange's permission endpoint with its
 * documented response shape for the registered key's permissions, serves Binance spot order
 * endpoints with an in-memory book per key, refuses (and counts) withdraw endpoints, and can
 * inject faults. It never writes to the console and never touches the network beyond 127.0.0.1.
 *
 * @example
 * ```ts
 * import ccxt from "ccxt";
 * import { startExchangeSimulator } from "keywarden/permissions/testing";
 *
 * const sim = await startExchangeSimulator(); // 127.0.0.1, free port
 * try {
 *   sim.setKey("binance", {
 *     apiKey: "test-key",
 *     secret: "test-secret",
 *     permissions: { read: true, trade: true, withdraw: false },
 *   });
 *   const ex = new ccxt.binance({
 *     apiKey: "test-key",
 *     secret: "test-secret",
 *     ...sim.ccxtOptions("binance"), // real signing, local transport
 *   });
 *   const restrictions = await ex.sapiGetAccountApiRestrictions();
 *   // restrictions.enableWithdrawals === false
 *   // sim.requests.count({ exchange: "binance" }) === 1
 *   await ex.createOrder("BTC/USDT", "limit", "buy", 0.01, 40000); // rests in the simulated book
 * } finally {
 *   await sim.close();
 * }
 * ```
 * @throws KeywardenError `ERR_INVALID_ARGUMENT` for invalid options; the listen error if the port is taken.
 */
export async function startExchangeSimulator(
  options: ExchangeSimulatorOptions = {},
): Promise<ExchangeSimulator> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid simulator options");
  }
  const now = parsed.data.now ?? Date.now;
  const market = new SpotMarket();
  const specs = buildSpecs(market);
  const keys = new Map<SimulatedExchangeId, Map<string, RegisteredKey>>();
  const log = new MemoryRequestLog();
  const faults = new FaultQueue();
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: "simulator error" });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url ?? "/");
    const spec = target === undefined ? undefined : specs[target.exchange];
    if (target === undefined || spec === undefined) {
      log.record(
        /* The query may carry a signature: only the path is recorded. */
        entry(
          null,
          `${req.method ?? "?"} ${(req.url ?? "").split("?")[0]}`,
          undefined,
          "bad-request",
          404,
        ),
      );
      send(res, { status: 404, body: { simulator: "unknown exchange" } });
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      send(res, { status: 413, body: { simulator: "body too large" } });
      return;
    }
    const request: SimRequest = {
      method: (req.method ?? "GET").toUpperCase(),
      host: target.host,
      path: target.path,
      query: target.query,
      headers: lowerHeaders(req),
      body,
    };
    const endpoint = `${request.method} ${request.path}`;
    const claimed = spec.claimedApiKey(request);
    const finish = (
      outcome: RecordedRequest["outcome"],
      response: SimResponse,
      authFailure?: AuthFailure,
    ): void => {
      log.record({
        ...entry(spec.id, endpoint, claimed, outcome, response.status),
        ...(authFailure === undefined ? {} : { authFailure }),
      });
      send(res, response);
    };

    const fault = faults.take(spec, endpoint);
    if (fault !== undefined) {
      if (fault.hang) {
        log.record(entry(spec.id, endpoint, claimed, "fault", 0));
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      finish("fault", fault.reply);
      return;
    }
    const route = spec.routes[endpoint] ?? spec.matchRoute?.(request.method, request.path);
    if (route === undefined) {
      finish("unknown-endpoint", { status: 404, body: { simulator: "unknown endpoint" } });
      return;
    }
    let key: RegisteredKey | undefined;
    if (route.auth === "signed") {
      const exchangeKeys = keys.get(spec.id);
      const auth = await spec.authenticate(request, {
        findKey: (apiKey) => exchangeKeys?.get(apiKey),
        now,
      });
      if (!auth.ok) {
        const error = spec.errors[auth.reason] ?? spec.errors.badSignature;
        finish("auth-failed", error, auth.reason);
        return;
      }
      key = auth.key;
      /* Precondition: a key with an enforced allow-list is refused from any other address. */
      if (key.ipAllowList !== undefined && !key.ipAllowList.includes(remoteAddress(req))) {
        finish("ip-refused", spec.errors.ipNotAllowed);
        return;
      }
    }
    if (route.withdraw === true) {
      finish("withdraw-refused", spec.errors.permissionDenied);
      return;
    }
    const registered = () => [...(keys.get(spec.id)?.values() ?? [])];
    finish("ok", route.handle({ request, key, now: now(), registered }));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(parsed.data.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    url: (exchange) => `${baseUrl}/${parseExchangeId(exchange)}`,
    ccxtOptions: (exchange) => ccxtOptionsFor(baseUrl, parseExchangeId(exchange)),
    pointUrls: (exchange, instance) =>
      pointUrlTree(instance.urls.api, baseUrl, parseExchangeId(exchange)),
    requests: log,
    setKey(exchange, key) {
      const id = parseExchangeId(exchange);
      const registered = parseKeyInput(id, key);
      const existing = keys.get(id) ?? new Map<string, RegisteredKey>();
      existing.set(registered.apiKey, registered);
      keys.set(id, existing);
    },
    setLastPrice(symbol, price) {
      const id = typeof symbol === "string" ? symbol.replace("/", "") : "";
      const units = toUnits(price);
      if (market.symbol(id) === undefined || units === undefined || units <= 0n) {
        throw new KeywardenError(
          "ERR_INVALID_ARGUMENT",
          "unknown simulated symbol or invalid price",
        );
      }
      market.setLastPrice(id, units);
    },
    inject(fault) {
      const checked = faultSchema.safeParse(fault);
      if (!checked.success) throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid fault");
      faults.add(checked.data as Fault);
    },
    clearFaults: () => faults.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function entry(
  exchange: SimulatedExchangeId | null,
  endpoint: string,
  apiKey: string | undefined,
  outcome: RecordedRequest["outcome"],
  status: number,
): RecordedRequest {
  return { exchange, endpoint, apiKey, outcome, status };
}
