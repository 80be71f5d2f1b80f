import {
  type AuthContext,
  type AuthResult,
  acceptIncreasingNonce,
  digest,
  type ExchangeSpec,
  hmac,
  reply,
  type SimRequest,
  safeEqual,
  strictBase64,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * Kraken: API-Sign = base64 HMAC-SHA512(path + SHA256(nonce + postdata)) keyed with the
 * base64-DECODED secret; API-Key header; `nonce` in the form body must increase per key.
 */

const error = (message: string) => reply(200, { error: [message] });

const errors = {
  badSignature: error("EAPI:Invalid signature"),
  invalidKey: error("EAPI:Invalid key"),
  staleTimestamp: error("EAPI:Invalid nonce"),
  ipNotAllowed: error("EGeneral:Permission denied"),
  rateLimited: error("EAPI:Rate limit exceeded"),
  permissionDenied: error("EGeneral:Permission denied"),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const apiKey = request.headers["api-key"];
  const key = apiKey === undefined ? undefined : context.findKey(apiKey);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const secret = strictBase64(key.secret);
  const nonce = new URLSearchParams(request.body).get("nonce") ?? "";
  if (secret === undefined) return { ok: false, reason: "badSignature" };
  const message = Buffer.concat([
    Buffer.from(request.path, "utf8"),
    digest("sha256", nonce + request.body),
  ]);
  if (!safeEqual(request.headers["api-sign"], hmac("sha512", secret, message, "base64"))) {
    return { ok: false, reason: "badSignature" };
  }
  if (!acceptIncreasingNonce(key, nonce)) return { ok: false, reason: "staleTimestamp" };
  return { ok: true, key };
}

/**
 * Verbatim documented sample of POST /0/private/GetApiKeyInfo, `permissions` and `ipAllowlist`
 * from the configured set, using only the four permission strings the sample shows: read =
 * query-funds + query-open-trades, trade = modify-trades, withdraw = withdraw-funds. Kraken's full
 * permission enum (and a transfer permission) is unconfirmed, so `transfer` is not represented.
 */
export function krakenApiKeyInfo(p: SimulatedPermissions, apiKey: string): Record<string, unknown> {
  const permissions = [
    ...(p.read ? ["query-funds"] : []),
    ...(p.withdraw ? ["withdraw-funds"] : []),
    ...(p.read ? ["query-open-trades"] : []),
    ...(p.trade ? ["modify-trades"] : []),
  ];
  return {
    error: [],
    result: {
      apiKeyName: "my-api-key",
      apiKey,
      nonce: "1772627060997",
      nonceWindow: 0,
      permissions,
      iban: "AA88 N84G WOAK NMOI",
      validUntil: "0",
      queryFrom: "0",
      queryTo: "0",
      createdTime: "1772542900",
      modifiedTime: "1772543095",
      ipAllowlist: p.ipRestricted ? [...p.ipAllowList] : [],
      lastUsed: "1772627061",
    },
  };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const krakenSpec: ExchangeSpec = {
  id: "kraken",
  claimedApiKey: (request) => request.headers["api-key"],
  authenticate,
  routes: {
    "POST /0/private/GetApiKeyInfo": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? krakenApiKeyInfo(key.permissions, key.apiKey) : {}),
    },
    "POST /0/private/Withdraw": refuse,
    "POST /0/private/WalletTransfer": refuse,
  },
  errors,
};
