import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  hmac,
  isFresh,
  pathWithQuery,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * KuCoin: KC-API-SIGN = base64 HMAC-SHA256(timestamp + METHOD + path?query + body) keyed with the
 * secret. KC-API-PASSPHRASE: key version 2/3 = base64 HMAC-SHA256(secret, passphrase); version 1 =
 * plaintext. KC-API-TIMESTAMP (ms) must lie within 5 s of the server clock.
 */

const error = (code: string, msg: string, status = 401) => reply(status, { code, msg });

const errors = {
  badSignature: error("400005", "Signature error - Please check your signature"),
  invalidKey: error("400003", "KC-API-KEY not exists"),
  staleTimestamp: error("400002", "KC-API-TIMESTAMP Invalid"),
  badPassphrase: error("400004", "Invalid KC-API-PASSPHRASE"),
  ipNotAllowed: error("400006", "The requested IP address is not in the API whitelist"),
  rateLimited: error("429000", "Too Many Requests", 429),
  permissionDenied: error("400007", "Access denied, require more permission."),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const key = h["kc-api-key"] === undefined ? undefined : context.findKey(h["kc-api-key"]);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const timestamp = h["kc-api-timestamp"] ?? "";
  const payload = timestamp + request.method + pathWithQuery(request) + request.body;
  if (!safeEqual(h["kc-api-sign"], hmac("sha256", key.secret, payload, "base64"))) {
    return { ok: false, reason: "badSignature" };
  }
  const version = h["kc-api-key-version"] ?? "1";
  const passphrase = key.passphrase ?? "";
  const expectedPassphrase =
    version === "1" ? passphrase : hmac("sha256", key.secret, passphrase, "base64");
  if (
    !["1", "2", "3"].includes(version) ||
    !safeEqual(h["kc-api-passphrase"], expectedPassphrase)
  ) {
    return { ok: false, reason: "badPassphrase" };
  }
  if (!/^\d{1,16}$/.test(timestamp) || !isFresh(Number(timestamp), context.now(), 5_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/** KuCoin masks allow-listed addresses: `203.0.113.154` is reported as `203.**.154`. */
export function maskIp(ip: string): string {
  const parts = ip.split(".");
  return parts.length === 4 ? `${parts[0]}.**.${parts[3]}` : "**";
}

/**
 * Documented sample of GET /api/v1/user/api-key (docs-new "Get Apikey Info"), `permission` and
 * `ipWhitelist` from the configured set: read = General; trade = Spot, Margin, Futures;
 * transfer = InnerTransfer; withdraw = Transfer (KuCoin: "including deposit and withdrawal").
 */
export function kucoinApiKeyInfo(
  p: SimulatedPermissions,
  apiKey: string,
  uid: string,
): Record<string, unknown> {
  const tokens = [
    p.read ? "General" : "",
    p.trade ? "Futures" : "",
    p.trade ? "Spot" : "",
    p.transfer ? "InnerTransfer" : "",
    p.withdraw ? "Transfer" : "",
    p.trade ? "Margin" : "",
  ];
  return {
    code: "200000",
    data: {
      remark: "account1",
      apiKey,
      apiVersion: 3,
      permission: tokens.filter((t) => t !== "").join(","),
      ipWhitelist: p.ipRestricted ? p.ipAllowList.map(maskIp).join(",") : "",
      createdAt: 1728443843000,
      uid: Number(uid),
      isMaster: true,
    },
  };
}

export const kucoinSpec: ExchangeSpec = {
  id: "kucoin",
  claimedApiKey: (request) => request.headers["kc-api-key"],
  authenticate,
  routes: {
    "GET /api/v1/user/api-key": {
      auth: "signed",
      handle: ({ key }) =>
        reply(200, key ? kucoinApiKeyInfo(key.permissions, key.apiKey, key.uid) : {}),
    },
    "POST /api/v1/withdrawals": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
    "POST /api/v3/accounts/universal-transfer": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
  },
  errors,
};
