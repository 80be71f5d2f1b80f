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
 * OKX v5: OK-ACCESS-SIGN = base64 HMAC-SHA256(timestamp + METHOD + path?query + body) keyed with the
 * secret; OK-ACCESS-PASSPHRASE is sent in plaintext and must equal the key's passphrase;
 * OK-ACCESS-TIMESTAMP is ISO-8601 and must lie within 30 s of the server clock.
 */

const error = (code: string, msg: string, status = 401) => reply(status, { msg, code, data: [] });

const errors = {
  badSignature: error("50113", "Invalid Sign"),
  invalidKey: error("50111", "Invalid OK-ACCESS-KEY"),
  staleTimestamp: error("50102", "Timestamp request expired"),
  badPassphrase: error("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'),
  ipNotAllowed: error("50110", "Your IP 127.0.0.1 is not included in your API key's IP whitelist."),
  rateLimited: error("50011", "Too Many Requests", 429),
  permissionDenied: error("50120", "API key doesn't have permission", 200),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const key = h["ok-access-key"] === undefined ? undefined : context.findKey(h["ok-access-key"]);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const timestamp = h["ok-access-timestamp"] ?? "";
  const expected = hmac(
    "sha256",
    key.secret,
    timestamp + request.method + pathWithQuery(request) + request.body,
    "base64",
  );
  if (!safeEqual(h["ok-access-sign"], expected)) return { ok: false, reason: "badSignature" };
  if (!safeEqual(h["ok-access-passphrase"], key.passphrase ?? "")) {
    return { ok: false, reason: "badPassphrase" };
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(timestamp)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  if (!isFresh(Date.parse(timestamp), context.now(), 30_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * Documented sample of GET /api/v5/account/config (as abridged in the reference), `perm` and `ip`
 * from the configured set. OKX has no separate transfer permission.
 */
export function okxAccountConfig(p: SimulatedPermissions, uid: string): Record<string, unknown> {
  const perm = [p.read ? "read_only" : "", p.withdraw ? "withdraw" : "", p.trade ? "trade" : ""];
  return {
    code: "0",
    data: [
      {
        acctLv: "2",
        ip: p.ipRestricted ? p.ipAllowList.join(",") : "",
        label: "v5 test",
        mainUid: uid,
        perm: perm.filter((x) => x !== "").join(","),
        type: "0",
        uid,
      },
    ],
    msg: "",
  };
}

export const okxSpec: ExchangeSpec = {
  id: "okx",
  claimedApiKey: (request) => request.headers["ok-access-key"],
  authenticate,
  routes: {
    "GET /api/v5/account/config": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? okxAccountConfig(key.permissions, key.uid) : {}),
    },
    "POST /api/v5/asset/withdrawal": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
    "POST /api/v5/asset/transfer": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
  },
  errors,
};
