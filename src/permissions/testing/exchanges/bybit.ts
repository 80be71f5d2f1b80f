import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  hmac,
  isFresh,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * Bybit v5: X-BAPI-SIGN = hex HMAC-SHA256(timestamp + apiKey + recvWindow + (query | body)) keyed
 * with the secret (GET signs the raw query string, POST the JSON body); X-BAPI-TIMESTAMP must lie
 * within X-BAPI-RECV-WINDOW (default 5000 ms) of the server clock.
 */

const error = (retCode: number, retMsg: string, status = 200) =>
  reply(status, { retCode, retMsg, result: {}, retExtInfo: {}, time: 1676430843547 });

const errors = {
  badSignature: error(10004, "error sign! origin_string[]", 401),
  invalidKey: error(10003, "API key is invalid.", 401),
  staleTimestamp: error(
    10002,
    "invalid request, please check your server timestamp or recv_window param",
  ),
  ipNotAllowed: error(10010, "Unmatched IP, please check your API key's bound IP addresses."),
  rateLimited: error(10006, "Too many visits!"),
  permissionDenied: error(10005, "Permission denied, please check your API key permissions."),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const apiKey = h["x-bapi-api-key"];
  const key = apiKey === undefined ? undefined : context.findKey(apiKey);
  if (key === undefined || apiKey === undefined) return { ok: false, reason: "invalidKey" };
  const timestamp = h["x-bapi-timestamp"] ?? "";
  const recvWindow = h["x-bapi-recv-window"] ?? "5000";
  const payload = request.method === "GET" ? request.query : request.body;
  const expected = hmac("sha256", key.secret, timestamp + apiKey + recvWindow + payload, "hex");
  if (!safeEqual(h["x-bapi-sign"], expected)) return { ok: false, reason: "badSignature" };
  if (!/^\d{1,16}$/.test(timestamp) || !/^\d{1,6}$/.test(recvWindow)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  if (!isFresh(Number(timestamp), context.now(), Number(recvWindow))) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * Documented sample of GET /v5/user/query-api (bybit-exchange/docs `docs/v5/user/apikey-info.mdx`),
 * permission fields from the configured set: trade fills the ContractTrade/Spot/Options/
 * Derivatives lists and `readOnly: 0`; transfer adds Wallet `AccountTransfer` and `SubMemberTransfer` (master ↔ sub; AccountTransfer alone stays with the owner); withdraw adds Wallet
 * `Withdraw`; an IP-restricted key reports its list in `ips` instead of `["*"]`.
 */
export function bybitQueryApi(
  p: SimulatedPermissions,
  apiKey: string,
  now: number,
): Record<string, unknown> {
  const wallet = [
    ...(p.transfer ? ["AccountTransfer", "SubMemberTransfer"] : []),
    ...(p.withdraw ? ["Withdraw"] : []),
  ];
  return {
    retCode: 0,
    retMsg: "",
    result: {
      id: "16651472",
      note: "testxxx",
      apiKey,
      readOnly: p.trade ? 0 : 1,
      secret: "",
      permissions: {
        ContractTrade: p.trade ? ["Order", "Position"] : [],
        Spot: p.trade ? ["SpotTrade"] : [],
        Wallet: wallet,
        Options: p.trade ? ["OptionsTrade"] : [],
        Derivatives: p.trade ? ["DerivativesTrade"] : [],
        CopyTrading: [],
        BlockTrade: [],
        Exchange: [],
        NFT: [],
      },
      ips: p.ipRestricted ? [...p.ipAllowList] : ["*"],
      type: 1,
      deadlineDay: 88,
      expiredAt: "2023-05-15T03:13:24Z",
      createdAt: "2023-02-15T03:13:24Z",
      unified: 0,
      uta: 0,
      userID: 53888001,
      inviterID: 0,
      vipLevel: "No VIP",
      mktMakerLevel: "0",
      affiliateID: 0,
    },
    retExtInfo: {},
    time: now,
  };
}

export const bybitSpec: ExchangeSpec = {
  id: "bybit",
  claimedApiKey: (request) => request.headers["x-bapi-api-key"],
  authenticate,
  routes: {
    "GET /v5/user/query-api": {
      auth: "signed",
      handle: ({ key, now }) =>
        reply(200, key ? bybitQueryApi(key.permissions, key.apiKey, now) : {}),
    },
    "POST /v5/asset/withdraw/create": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
    "POST /v5/asset/transfer/inter-transfer": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
  },
  errors,
};
