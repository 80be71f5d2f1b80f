import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  isFresh,
  reply,
  type SimRequest,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";
import { verifyQuerySignature } from "./binance.js";

/*
 * BingX: hex HMAC-SHA256 of the query string before `&signature=` (Binance style), X-BX-APIKEY
 * header, `timestamp` (ms) within 5 s of the server clock.
 */

const error = (code: number, msg: string, status = 200) =>
  reply(status, { code, msg, timestamp: 1705274099347 });

const errors = {
  badSignature: error(100001, "Signature verification failed"),
  invalidKey: error(100413, "Incorrect apiKey"),
  staleTimestamp: error(100421, "Null timestamp or timestamp mismatch"),
  ipNotAllowed: error(100419, "IP does not match IP whitelist"),
  rateLimited: error(100410, "Rate limitation", 429),
  permissionDenied: error(
    100004,
    "Permission denied as the API key was created without the permission",
  ),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const apiKey = request.headers["x-bx-apikey"];
  const key = apiKey === undefined ? undefined : context.findKey(apiKey);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const payload =
    request.method === "GET" || request.method === "DELETE" ? request.query : request.body;
  const { ok, params } = verifyQuerySignature(payload, key.secret);
  if (!ok) return { ok: false, reason: "badSignature" };
  if (!isFresh(Number(params.get("timestamp")), context.now(), 5_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * GET /openApi/v1/account/apiPermissions, shape from the third-party bingx_py model (the reference
 * marks it 3rd-party): permissions 1 = spot trading, 2 = read, 3 = perpetual futures trading,
 * 4 = universal transfer, 5 = withdraw, 7 = sub-account internal transfer.
 */
export function bingxApiPermissions(
  p: SimulatedPermissions,
  apiKey: string,
): Record<string, unknown> {
  const permissions = [
    ...(p.trade ? [1] : []),
    ...(p.read ? [2] : []),
    ...(p.trade ? [3] : []),
    ...(p.transfer ? [4] : []),
    ...(p.withdraw ? [5] : []),
  ];
  return {
    code: 0,
    msg: "",
    data: {
      apiKey,
      permissions,
      ipAddresses: p.ipRestricted ? [...p.ipAllowList] : [],
      note: "bot",
    },
  };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const bingxSpec: ExchangeSpec = {
  id: "bingx",
  claimedApiKey: (request) => request.headers["x-bx-apikey"],
  authenticate,
  routes: {
    "GET /openApi/v1/account/apiPermissions": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? bingxApiPermissions(key.permissions, key.apiKey) : {}),
    },
    "POST /openApi/wallets/v1/capital/withdraw/apply": refuse,
    "POST /openApi/api/v3/post/asset/transfer": refuse,
  },
  errors,
};
