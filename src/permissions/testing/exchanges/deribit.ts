import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  hmac,
  isFresh,
  pathWithQuery,
  queryParam,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * Deribit, two schemes:
 * - private methods as ccxt signs them: `Authorization: deri-hmac-sha256 id=…,ts=…,sig=…,nonce=…`
 *   with sig = hex HMAC-SHA256(ts + "\n" + nonce + "\n" + METHOD + "\n" + path?query + "\n" + body
 *   + "\n") keyed with the secret; ts (ms) within 60 s;
 * - `public/auth` with grant_type=client_signature: signature = hex HMAC-SHA256(timestamp + "\n" +
 *   nonce + "\n" + data), the caller computing it (ccxt sends the query as given).
 */

const rpcError = (code: number, message: string, status = 400) =>
  reply(status, { jsonrpc: "2.0", error: { message, code }, testnet: false });

const errors = {
  badSignature: rpcError(13009, "unauthorized"),
  invalidKey: rpcError(13004, "invalid_credentials"),
  staleTimestamp: rpcError(13009, "unauthorized"),
  ipNotAllowed: rpcError(13009, "unauthorized"),
  rateLimited: rpcError(10028, "too_many_requests", 429),
  permissionDenied: rpcError(13021, "forbidden"),
} as const;

function parseAuthorization(value: string | undefined): Record<string, string> | undefined {
  if (value?.startsWith("deri-hmac-sha256 ") !== true) return undefined;
  const fields: Record<string, string> = {};
  for (const part of value.slice("deri-hmac-sha256 ".length).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return fields;
}

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  if (request.path === "/api/v2/public/auth") return authenticateClientSignature(request, context);
  const fields = parseAuthorization(request.headers.authorization);
  const key = fields?.id === undefined ? undefined : context.findKey(fields.id);
  if (fields === undefined || key === undefined) return { ok: false, reason: "invalidKey" };
  const ts = fields.ts ?? "";
  const payload = `${ts}\n${fields.nonce ?? ""}\n${request.method}\n${pathWithQuery(request)}\n${request.body}\n`;
  if (!safeEqual(fields.sig, hmac("sha256", key.secret, payload, "hex"))) {
    return { ok: false, reason: "badSignature" };
  }
  if (!/^\d{1,16}$/.test(ts) || !isFresh(Number(ts), context.now(), 60_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

function authenticateClientSignature(request: SimRequest, context: AuthContext): AuthResult {
  const q = (name: string) => queryParam(request.query, name);
  const clientId = q("client_id");
  const key = clientId === undefined ? undefined : context.findKey(clientId);
  if (q("grant_type") !== "client_signature" || key === undefined) {
    return { ok: false, reason: "invalidKey" };
  }
  const timestamp = q("timestamp") ?? "";
  const payload = `${timestamp}\n${q("nonce") ?? ""}\n${q("data") ?? ""}`;
  if (!safeEqual(q("signature"), hmac("sha256", key.secret, payload, "hex"))) {
    return { ok: false, reason: "badSignature" };
  }
  if (!/^\d{1,16}$/.test(timestamp) || !isFresh(Number(timestamp), context.now(), 60_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/** Deribit scope words for the configured set: account, trade and wallet (withdraw). */
export function deribitScopes(p: SimulatedPermissions): string {
  const level = (write: boolean, read: boolean) => (write ? "read_write" : read ? "read" : "none");
  return [
    `account:${level(p.transfer, p.read)}`,
    `trade:${level(p.trade, p.read)}`,
    `wallet:${level(p.withdraw, p.read)}`,
  ].join(" ");
}

/**
 * `public/auth` reply: the documented sample with tokens shortened; `scope` carries the functional
 * scopes followed by the sample's "connection mainaccount". Whether the live exchange returns the
 * functional scopes when none are requested is UNCONFIRMED (reference §2).
 */
export function deribitAuth(p: SimulatedPermissions): Record<string, unknown> {
  return {
    jsonrpc: "2.0",
    id: 9929,
    result: {
      access_token: "1582628593469.1MbQ-J_4.simulated",
      expires_in: 31536000,
      refresh_token: "1582628593469.1GP4rQd0.simulated",
      scope: `${deribitScopes(p)} connection mainaccount`,
      enabled_features: [],
      token_type: "bearer",
    },
  };
}

/**
 * `private/list_api_keys` reply: the documented sample (one entry). Like the real exchange it
 * INCLUDES `client_secret` — here the test secret — so callers can test that they scrub it.
 */
export function deribitListApiKeys(
  p: SimulatedPermissions,
  apiKey: string,
  secret: string,
): Record<string, unknown> {
  return {
    jsonrpc: "2.0",
    id: 2553,
    result: [
      {
        timestamp: 1560236287708,
        max_scope: `${deribitScopes(p)} block_trade:read`,
        id: 2,
        enabled: true,
        default: true,
        client_secret: secret,
        client_id: apiKey,
        name: "",
        enabled_features: [],
        ip_whitelist: p.ipRestricted ? [...p.ipAllowList] : [],
      },
    ],
  };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const deribitSpec: ExchangeSpec = {
  id: "deribit",
  claimedApiKey: (request) =>
    request.path === "/api/v2/public/auth"
      ? queryParam(request.query, "client_id")
      : parseAuthorization(request.headers.authorization)?.id,
  authenticate,
  routes: {
    "GET /api/v2/public/auth": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? deribitAuth(key.permissions) : {}),
    },
    "GET /api/v2/private/list_api_keys": {
      auth: "signed",
      handle: ({ key }) =>
        reply(200, key ? deribitListApiKeys(key.permissions, key.apiKey, key.secret) : {}),
    },
    "GET /api/v2/private/withdraw": refuse,
    "GET /api/v2/private/submit_transfer_to_user": refuse,
  },
  errors,
};
