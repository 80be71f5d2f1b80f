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
 * Bitget v2: ACCESS-SIGN = base64 HMAC-SHA256(timestamp + METHOD + path + ("?" + decoded query) +
 * body) keyed with the secret; ACCESS-PASSPHRASE is plaintext and must match; ACCESS-TIMESTAMP (ms)
 * within 30 s of the server clock.
 */

const error = (code: string, msg: string, status = 400) =>
  reply(status, { code, msg, requestTime: 1695808949356, data: null });

const errors = {
  badSignature: error("40009", "sign signature error"),
  invalidKey: error("40037", "Apikey does not exist"),
  staleTimestamp: error("40008", "Request timestamp expired"),
  badPassphrase: error("40012", "apikey/password is incorrect"),
  ipNotAllowed: error("40018", "Invalid IP"),
  rateLimited: error("429", "Too Many Requests", 429),
  permissionDenied: error("40014", "Incorrect permissions"),
} as const;

function decodedQuery(query: string): string {
  return query
    .split("&")
    .map((pair) =>
      pair
        .split("=")
        .map((part) => decodeURIComponent(part.replace(/\+/g, " ")))
        .join("="),
    )
    .join("&");
}

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const key = h["access-key"] === undefined ? undefined : context.findKey(h["access-key"]);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const timestamp = h["access-timestamp"] ?? "";
  const query = request.query === "" ? "" : `?${decodedQuery(request.query)}`;
  const payload = timestamp + request.method + request.path + query + request.body;
  if (!safeEqual(h["access-sign"], hmac("sha256", key.secret, payload, "base64"))) {
    return { ok: false, reason: "badSignature" };
  }
  if (!safeEqual(h["access-passphrase"], key.passphrase ?? "")) {
    return { ok: false, reason: "badPassphrase" };
  }
  if (!/^\d{1,16}$/.test(timestamp) || !isFresh(Number(timestamp), context.now(), 30_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * Documented sample of GET /api/v2/spot/account/info, `authorities` and `ips` from the configured
 * set. The docs sample shows the legacy values `["trade","readonly"]`; the simulator reports the
 * current short codes listed on the docs mirrors: read = coor, stor, wtor; trade = coow, stow;
 * transfer = wtow; withdraw = wwow (wallet withdrawal).
 */
export function bitgetAccountInfo(p: SimulatedPermissions, uid: string): Record<string, unknown> {
  const authorities = [
    ...(p.read ? ["coor", "stor", "wtor"] : []),
    ...(p.trade ? ["coow", "stow"] : []),
    ...(p.transfer ? ["wtow"] : []),
    ...(p.withdraw ? ["wwow"] : []),
  ];
  return {
    code: "00000",
    msg: "success",
    requestTime: 1695808949356,
    data: {
      userId: uid,
      inviterId: "**********",
      ips: p.ipRestricted ? p.ipAllowList.join(",") : "",
      authorities,
      parentId: 1,
      traderType: "trader",
      channelCode: "XXX",
      channel: "YYY",
      regisTime: "1246566789345",
    },
  };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const bitgetSpec: ExchangeSpec = {
  id: "bitget",
  claimedApiKey: (request) => request.headers["access-key"],
  authenticate,
  routes: {
    "GET /api/v2/spot/account/info": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? bitgetAccountInfo(key.permissions, key.uid) : {}),
    },
    "POST /api/v2/spot/wallet/withdrawal": refuse,
    "POST /api/v2/spot/wallet/transfer": refuse,
  },
  errors,
};
