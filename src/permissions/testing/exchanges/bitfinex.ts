import {
  type AuthContext,
  type AuthResult,
  acceptIncreasingNonce,
  type ExchangeSpec,
  hmac,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * Bitfinex v2: bfx-signature = hex HMAC-SHA384("/api" + path + nonce + body) keyed with the secret;
 * bfx-apikey and bfx-nonce headers; the nonce must increase per key.
 */

const error = (code: number, text: string, status = 500) => reply(status, ["error", code, text]);

const errors = {
  badSignature: error(10100, "apikey: digest invalid"),
  invalidKey: error(10100, "apikey: invalid"),
  staleTimestamp: error(10114, "nonce: small"),
  ipNotAllowed: error(10100, "apikey: invalid"),
  rateLimited: error(11010, "ratelimit: error", 429),
  permissionDenied: error(10001, "api_key: permission invalid"),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const key = h["bfx-apikey"] === undefined ? undefined : context.findKey(h["bfx-apikey"]);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const nonce = h["bfx-nonce"] ?? "";
  const expected = hmac("sha384", key.secret, `/api${request.path}${nonce}${request.body}`, "hex");
  if (!safeEqual(h["bfx-signature"], expected)) return { ok: false, reason: "badSignature" };
  if (!acceptIncreasingNonce(key, nonce)) return { ok: false, reason: "staleTimestamp" };
  return { ok: true, key };
}

const bit = (value: boolean): number => (value ? 1 : 0);

/**
 * POST /v2/auth/r/permissions, built from the documented schema `[SCOPE, READ, WRITE]` (the
 * reference's sample is constructed, consistent with third-party mocks): read sets READ on the
 * account/history/orders/positions/funding/wallets scopes; trade sets WRITE on orders and
 * positions; transfer sets WRITE on wallets; withdraw sets READ and WRITE on withdraw.
 */
export function bitfinexPermissions(p: SimulatedPermissions): unknown[] {
  const r = bit(p.read);
  return [
    ["account", r, 0],
    ["history", r, 0],
    ["orders", r, bit(p.trade)],
    ["positions", r, bit(p.trade)],
    ["funding", r, 0],
    ["settings", 0, 0],
    ["wallets", r, bit(p.transfer)],
    ["withdraw", bit(p.withdraw), bit(p.withdraw)],
    ["ui_withdraw", 0, 0],
    ["bfxpay", 0, 0],
  ];
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const bitfinexSpec: ExchangeSpec = {
  id: "bitfinex",
  claimedApiKey: (request) => request.headers["bfx-apikey"],
  authenticate,
  routes: {
    "POST /v2/auth/r/permissions": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? bitfinexPermissions(key.permissions) : []),
    },
    "POST /v2/auth/w/withdraw": refuse,
    "POST /v2/auth/w/transfer": refuse,
  },
  errors,
};
