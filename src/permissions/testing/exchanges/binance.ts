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
 * replaced from the configured set. Trade covers spot/margin and futures; portfolio margin and
 * options stay off; transfer covers internal and universal transfer.
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
    enableSpotAndMarginTrading: p.trade,
    enableWithdrawals: p.withdraw,
    enableMargin: p.trade,
  };
}

const refuse: Route = {
  auth: "signed",
  withdraw: true,
  handle: () => errors.permissionDenied,
};

function routes(): Record<string, Route> {
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

export function binanceSpec(id: "binance" | "binanceusdm"): ExchangeSpec {
  return {
    id,
    claimedApiKey: (request) => request.headers["x-mbx-apikey"],
    authenticate,
    routes: routes(),
    errors,
  };
}
