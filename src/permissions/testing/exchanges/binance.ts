import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  hmac,
  type Route,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";
import type { SpotMarket } from "./binance-market.js";
import { binanceOrderRoutes } from "./binance-orders.js";

/*
 * Binance (spot and USD-M share one key and the same `sapi` permission endpoint).
 * Signed requests: HMAC-SHA256 (hex) of the query string (GET/DELETE) or form body (POST/PUT)
 * up to the last `&signature=`, keyed with the secret; key id in `X-MBX-APIKEY`; `timestamp`
 * must satisfy `timestamp < now + 1000` and `now - timestamp <= recvWindow` (default 5000).
 */

const errors = {
  badSignature: reply(400, { code: -1022, msg: "Signature for this request is not valid." }),
  invalidKey: reply(401, { code: -2015, msg: "Invalid API-key, IP, or permissions for action." }),
  staleTimestamp: reply(400, {
    code: -1021,
    msg: "Timestamp for this request is outside of the recvWindow.",
  }),
  ipNotAllowed: reply(401, { code: -2015, msg: "Invalid API-key, IP, or permissions for action." }),
  rateLimited: reply(429, {
    code: -1003,
    msg: "Too many requests; current limit is 1200 requests per minute.",
  }),
  permissionDenied: reply(401, {
    code: -2015,
    msg: "Invalid API-key, IP, or permissions for action.",
  }),
} as const;

function signedPayload(request: SimRequest): string {
  return request.method === "GET" || request.method === "DELETE" ? request.query : request.body;
}

/** Binance-style query signing, shared with MEXC and BingX verifiers. */
export function verifyQuerySignature(
  payload: string,
  secret: string,
): { ok: boolean; params: URLSearchParams } {
  const at = payload.lastIndexOf("&signature=");
  if (at < 0) return { ok: false, params: new URLSearchParams(payload) };
  const signed = payload.slice(0, at);
  const signature = payload.slice(at + "&signature=".length);
  const expected = hmac("sha256", secret, signed, "hex");
  return { ok: safeEqual(signature, expected), params: new URLSearchParams(signed) };
}

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const apiKey = request.headers["x-mbx-apikey"];
  const key = apiKey === undefined ? undefined : context.findKey(apiKey);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const { ok, params } = verifyQuerySignature(signedPayload(request), key.secret);
  if (!ok) return { ok: false, reason: "badSignature" };
  const timestamp = Number(params.get("timestamp"));
  const recvWindow = Number(params.get("recvWindow") ?? "5000");
  const now = context.now();
  if (!(recvWindow > 0 && recvWindow <= 60_000)) return { ok: false, reason: "staleTimestamp" };
  if (!(timestamp < now + 1000 && now - timestamp <= recvWindow)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * Verbatim documented sample (developers.binance.com, "Get API Key Permission"), permission fields
 * replaced from the configured set. Trade reports futures and margin trading, not Enable Spot &
 * Margin Trading: with that flag on, a real key's transfer reads as unknown (a sub-account's
 * spot-trading key may transfer to its master; the answer does not say whose key it is), which the
 * default policy refuses. The simulated spot order routes do not check which trade flag is on.
 * Portfolio margin and options stay off; transfer covers internal and universal transfer.
 */
export function binanceApiRestrictions(p: SimulatedPermissions): Record<string, unknown> {
  return {
    ipRestrict: p.ipRestricted,
    createTime: 1698645219000,
    enableInternalTransfer: p.transfer,
    enableFutures: p.trade,
    enablePortfolioMarginTrading: false,
    enableVanillaOptions: false,
    permitsUniversalTransfer: p.transfer,
    enableReading: p.read,
    enableSpotAndMarginTrading: false,
    enableWithdrawals: p.withdraw,
    enableMargin: p.trade,
  };
}

const refuse: Route = {
  auth: "signed",
  withdraw: true,
  handle: () => errors.permissionDenied,
};

/* What ccxt's loadMarkets also asks for when credentials are set (futures and currencies). */
const emptyExchangeInfo: Route = {
  auth: "public",
  handle: ({ now }) =>
    reply(200, {
      timezone: "UTC",
      serverTime: now,
      rateLimits: [],
      exchangeFilters: [],
      assets: [],
      symbols: [],
    }),
};

function coinConfig(coin: string, name: string): Record<string, unknown> {
  return {
    coin,
    name,
    depositAllEnable: true,
    withdrawAllEnable: true,
    free: "0",
    locked: "0",
    freeze: "0",
    withdrawing: "0",
    ipoing: "0",
    ipoable: "0",
    storage: "0",
    isLegalMoney: false,
    trading: true,
    networkList: [
      {
        network: coin,
        coin,
        withdrawIntegerMultiple: "0.00000001",
        isDefault: true,
        depositEnable: true,
        withdrawEnable: true,
        depositDesc: "",
        withdrawDesc: "",
        name,
        resetAddressStatus: false,
        withdrawFee: "0",
        withdrawMin: "0",
        withdrawMax: "9999999999",
        minConfirm: 1,
        unLockConfirm: 0,
        sameAddress: false,
        busy: false,
      },
    ],
  };
}

const marketsRoutes: Record<string, Route> = {
  "GET /fapi/v1/exchangeInfo": emptyExchangeInfo,
  "GET /dapi/v1/exchangeInfo": emptyExchangeInfo,
  "GET /sapi/v1/margin/allPairs": { auth: "public", handle: () => reply(200, []) },
  "GET /sapi/v1/margin/isolated/allPairs": { auth: "signed", handle: () => reply(200, []) },
  "GET /sapi/v1/capital/config/getall": {
    auth: "signed",
    handle: () =>
      reply(200, [
        coinConfig("BTC", "Bitcoin"),
        coinConfig("ETH", "Ethereum"),
        coinConfig("USDT", "TetherUS"),
      ]),
  },
};

function routes(market: SpotMarket | undefined): Record<string, Route> {
  return {
    "GET /sapi/v1/account/apiRestrictions": {
      auth: "signed",
      handle: ({ key }) => reply(200, binanceApiRestrictions(key?.permissions ?? readOnly)),
    },
    "POST /sapi/v1/capital/withdraw/apply": refuse,
    "POST /wapi/v3/withdraw.html": refuse,
    "POST /sapi/v1/asset/transfer": refuse,
    "POST /sapi/v1/sub-account/universalTransfer": refuse,
    "POST /sapi/v1/futures/transfer": refuse,
    ...(market === undefined ? {} : { ...marketsRoutes, ...binanceOrderRoutes(market) }),
  };
}

const readOnly: SimulatedPermissions = {
  read: true,
  trade: false,
  withdraw: false,
  transfer: false,
  ipRestricted: false,
  ipAllowList: [],
};

/** Binance spot (with order routes over `market`) or USD-M (permission endpoint only). */
export function binanceSpec(id: "binance" | "binanceusdm", market?: SpotMarket): ExchangeSpec {
  return {
    id,
    claimedApiKey: (request) => request.headers["x-mbx-apikey"],
    authenticate,
    routes: routes(id === "binance" ? market : undefined),
    errors,
  };
}
