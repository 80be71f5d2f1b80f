import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  reply,
  type SimRequest,
} from "../exchange-spec.js";
import { verifyQuerySignature } from "./binance.js";

/*
 * MEXC spot v3: hex HMAC-SHA256 of the query before `&signature=` (Binance style), X-MEXC-APIKEY
 * header, `timestamp` within `recvWindow` (ccxt sends 5000). MEXC has NO permission read-back
 * endpoint: the simulator serves GET /api/v3/account (`canTrade`/`canWithdraw`, probably
 * account-level, UNCONFIRMED) and counts-and-refuses POST /api/v3/apiKeyInfo, which rewrites
 * the IP whitelist and must never be called.
 */

const error = (code: number, msg: string, status = 400) => reply(status, { code, msg });

const errors = {
  badSignature: error(700002, "Signature for this request is not valid."),
  invalidKey: error(10072, "Api key info invalid"),
  staleTimestamp: error(700003, "Timestamp for this request is outside of the recvWindow."),
  ipNotAllowed: error(700006, "IP non white list"),
  rateLimited: error(429, "Too many requests", 429),
  permissionDenied: error(700007, "No permission to access the endpoint."),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const apiKey = request.headers["x-mexc-apikey"];
  const key = apiKey === undefined ? undefined : context.findKey(apiKey);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const { ok, params } = verifyQuerySignature(request.query, key.secret);
  if (!ok) return { ok: false, reason: "badSignature" };
  const timestamp = Number(params.get("timestamp"));
  const recvWindow = Number(params.get("recvWindow") ?? "5000");
  const now = context.now();
  if (
    !(
      recvWindow > 0 &&
      recvWindow <= 60_000 &&
      timestamp < now + 1000 &&
      now - timestamp <= recvWindow
    )
  ) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const mexcSpec: ExchangeSpec = {
  id: "mexc",
  claimedApiKey: (request) => request.headers["x-mexc-apikey"],
  authenticate,
  routes: {
    "GET /api/v3/account": {
      auth: "signed",
      handle: ({ key }) =>
        reply(200, {
          makerCommission: 0,
          takerCommission: 0,
          buyerCommission: 0,
          sellerCommission: 0,
          canTrade: key?.permissions.trade === true,
          canWithdraw: key?.permissions.withdraw === true,
          canDeposit: true,
          updateTime: null,
          accountType: "SPOT",
          balances: [],
          permissions: ["SPOT"],
        }),
    },
    "POST /api/v3/apiKeyInfo": refuse,
    "POST /api/v3/capital/withdraw": refuse,
    "POST /api/v3/capital/withdraw/apply": refuse,
    "DELETE /api/v3/capital/withdraw": refuse,
    "POST /api/v3/capital/transfer": refuse,
  },
  errors,
};
