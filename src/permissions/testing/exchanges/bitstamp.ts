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

/*
 * Bitstamp X-Auth v2: X-Auth-Signature = hex HMAC-SHA256("BITSTAMP " + apiKey + METHOD + host +
 * path?query + contentType + nonce + timestamp + "v2" + body) keyed with the secret; X-Auth-Nonce
 * (a UUID, never reused per key); X-Auth-Timestamp (ms) within 150 s. Bitstamp has NO permission
 * read-back; POST /api/v2/withdrawal-requests/ is the candidate probe (UNCONFIRMED: it needs the
 * "withdrawal requests" view permission, which the simulator ties to `withdraw`).
 */

const error = (reason: string, code: string | undefined, status = 403) =>
  reply(status, { status: "error", reason, ...(code === undefined ? {} : { code }) });

const errors = {
  badSignature: error("Invalid signature", "API0005"),
  invalidKey: error("API key not found", "API0001"),
  staleTimestamp: error("Invalid nonce", "API0004"),
  ipNotAllowed: error("IP address not allowed", "API0006"),
  rateLimited: error("Rate limit exceeded", "API0009", 429),
  permissionDenied: error("No permission found", undefined, 200),
} as const;

const SEEN_NONCES = "bitstamp.nonces";

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const xAuth = h["x-auth"] ?? "";
  const key = xAuth.startsWith("BITSTAMP ")
    ? context.findKey(xAuth.slice("BITSTAMP ".length))
    : undefined;
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const nonce = h["x-auth-nonce"] ?? "";
  const timestamp = h["x-auth-timestamp"] ?? "";
  const contentType = request.body === "" ? "" : (h["content-type"] ?? "");
  const payload = `${xAuth}${request.method}${request.host}${pathWithQuery(request)}${contentType}${nonce}${timestamp}${h["x-auth-version"] ?? ""}${request.body}`;
  if (!safeEqual(h["x-auth-signature"], hmac("sha256", key.secret, payload, "hex"))) {
    return { ok: false, reason: "badSignature" };
  }
  const seen = (key.state.get(SEEN_NONCES) as Set<string> | undefined) ?? new Set<string>();
  key.state.set(SEEN_NONCES, seen);
  if (h["x-auth-version"] !== "v2" || seen.has(nonce) || !/^\d{1,16}$/.test(timestamp)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  if (!isFresh(Number(timestamp), context.now(), 150_000))
    return { ok: false, reason: "staleTimestamp" };
  seen.add(nonce);
  return { ok: true, key };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const bitstampSpec: ExchangeSpec = {
  id: "bitstamp",
  claimedApiKey: (request) => {
    const xAuth = request.headers["x-auth"] ?? "";
    return xAuth.startsWith("BITSTAMP ") ? xAuth.slice("BITSTAMP ".length) : undefined;
  },
  authenticate,
  routes: {
    "POST /api/v2/withdrawal-requests/": {
      auth: "signed",
      handle: ({ key }) =>
        key?.permissions.withdraw === true ? reply(200, []) : errors.permissionDenied,
    },
  },
  errors,
  matchRoute: (method, path) =>
    method === "POST" && /^\/api\/v2\/[a-z0-9_]+_withdrawal\/$/.test(path) ? refuse : undefined,
};
