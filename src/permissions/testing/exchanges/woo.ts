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
 * WOO X v3 (developer.woox.io, API guide "Authentication"): x-api-signature = hex
 * HMAC-SHA256(timestamp + METHOD + path?query + body) keyed with the secret; x-api-timestamp is
 * milliseconds. The simulator accepts it within 30 s of its clock.
 */

const error = (code: number, message: string, status = 401) =>
  reply(status, { success: false, code, message });

const errors = {
  badSignature: error(-1001, "The api key or secret is in wrong format"),
  invalidKey: error(
    -1002,
    "API key or secret is invalid, it may because key have insufficient permission or the key is expired/revoked.",
  ),
  staleTimestamp: error(-1001, "The api key or secret is in wrong format"),
  ipNotAllowed: error(
    -1002,
    "API key or secret is invalid, it may because key have insufficient permission or the key is expired/revoked.",
  ),
  rateLimited: error(-1003, "Rate limit exceed.", 429),
  permissionDenied: error(
    -1002,
    "API key or secret is invalid, it may because key have insufficient permission or the key is expired/revoked.",
  ),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const key = h["x-api-key"] === undefined ? undefined : context.findKey(h["x-api-key"]);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const timestamp = h["x-api-timestamp"] ?? "";
  const expected = hmac(
    "sha256",
    key.secret,
    timestamp + request.method + pathWithQuery(request) + request.body,
    "hex",
  );
  if (!safeEqual(h["x-api-signature"], expected)) return { ok: false, reason: "badSignature" };
  if (!/^\d{13}$/.test(timestamp) || !isFresh(Number(timestamp), context.now(), 30_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * The documented sample of GET /v3/account/credentials: the key's own row (permissions from the
 * configured set: READ, TRADE, WITHDRAWAL; WOO has no transfer permission, so `transfer` is not
 * shown), with `allowedIPs` only when IP-restricted.
 */
export function wooCredentials(p: SimulatedPermissions, apiKey: string): Record<string, unknown> {
  const perms = [p.read ? "READ" : "", p.trade ? "TRADE" : "", p.withdraw ? "WITHDRAWAL" : ""];
  const row = {
    accountName: "Main",
    userId: 12523,
    apiKey,
    permissions: perms.filter((x) => x !== ""),
    ...(p.ipRestricted ? { allowedIPs: [...p.ipAllowList] } : {}),
  };
  return {
    success: true,
    data: { rows: [row], meta: { total: 1, recordsPerPage: 1000, currentPage: 1 } },
    timestamp: 1721295317627,
  };
}

export const wooSpec: ExchangeSpec = {
  id: "woo",
  claimedApiKey: (request) => request.headers["x-api-key"],
  authenticate,
  routes: {
    "GET /v3/account/credentials": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? wooCredentials(key.permissions, key.apiKey) : {}),
    },
    "POST /v3/asset/wallet/withdraw": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
    "POST /v3/asset/transfer": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
  },
  errors,
};
