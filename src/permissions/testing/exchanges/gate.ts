import {
  type AuthContext,
  type AuthResult,
  digest,
  type ExchangeSpec,
  hmac,
  isFresh,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * Gate v4: SIGN = hex HMAC-SHA512("METHOD\npath\ndecoded query\nhex SHA512(body)\ntimestamp") keyed
 * with the secret; KEY and Timestamp (seconds, within 60 s) headers.
 */

const error = (label: string, message: string, status = 401) => reply(status, { label, message });

const errors = {
  badSignature: error("INVALID_SIGNATURE", "Signature mismatch"),
  invalidKey: error("INVALID_KEY", "Invalid key provided"),
  staleTimestamp: error(
    "REQUEST_EXPIRED",
    "gap between request Timestamp and server time exceeds 60",
  ),
  ipNotAllowed: error("IP_FORBIDDEN", "Request IP not in whitelist: 127.0.0.1", 403),
  rateLimited: error("TOO_MANY_REQUESTS", "Request Rate limit Exceeded", 429),
  permissionDenied: error("FORBIDDEN", "Forbidden", 403),
} as const;

function decoded(query: string): string {
  return query === "" ? "" : decodeURIComponent(query.replace(/\+/g, " "));
}

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const key = h.key === undefined ? undefined : context.findKey(h.key);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const timestamp = h.timestamp ?? "";
  const bodyHash = digest("sha512", request.body).toString("hex");
  const payload = [request.method, request.path, decoded(request.query), bodyHash, timestamp].join(
    "\n",
  );
  if (!safeEqual(h.sign, hmac("sha512", key.secret, payload, "hex"))) {
    return { ok: false, reason: "badSignature" };
  }
  if (!/^\d{1,12}$/.test(timestamp) || !isFresh(Number(timestamp) * 1000, context.now(), 60_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/** GET /api/v4/account/detail (SDK model `AccountDetail`): the IP allow-list only. */
export function gateAccountDetail(p: SimulatedPermissions, uid: string): Record<string, unknown> {
  return {
    user_id: Number(uid),
    ip_whitelist: p.ipRestricted ? [...p.ipAllowList] : [],
    currency_pairs: [],
    key: { mode: 1 },
    tier: 0,
  };
}

/**
 * GET /api/v4/account/main_keys, constructed from the SDK models `Key` and `KeyPerms` (never seen
 * verbatim): spot/futures read_only = !trade; wallet read_only = !(withdraw || transfer). That
 * `wallet` read-write means withdraw-capable is the reference's UNCONFIRMED best guess.
 */
export function gateMainKeys(p: SimulatedPermissions, uid: string): unknown[] {
  return [
    {
      state: 1,
      mode: 1,
      name: ["bot"],
      currency_pairs: [],
      user_id: Number(uid),
      ip_whitelist: p.ipRestricted ? [...p.ipAllowList] : [],
      perms: [
        { name: "spot", read_only: !p.trade },
        { name: "futures", read_only: !p.trade },
        { name: "wallet", read_only: !(p.withdraw || p.transfer) },
      ],
      key: { mode: 1 },
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
      last_access: "2024-01-02T00:00:00Z",
    },
  ];
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const gateSpec: ExchangeSpec = {
  id: "gate",
  claimedApiKey: (request) => request.headers.key,
  authenticate,
  routes: {
    "GET /api/v4/account/detail": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? gateAccountDetail(key.permissions, key.uid) : {}),
    },
    "GET /api/v4/account/main_keys": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? gateMainKeys(key.permissions, key.uid) : []),
    },
    "POST /api/v4/withdrawals": refuse,
    "POST /api/v4/wallet/transfers": refuse,
  },
  errors,
};
