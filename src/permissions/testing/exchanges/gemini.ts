import {
  type AuthContext,
  type AuthResult,
  acceptIncreasingNonce,
  type ExchangeSpec,
  hmac,
  parseJsonBody,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * Gemini: X-GEMINI-PAYLOAD = base64(JSON {request: path, nonce, ...params}); X-GEMINI-SIGNATURE =
 * hex HMAC-SHA384(payload) keyed with the secret; X-GEMINI-APIKEY (ccxt only signs account keys).
 * The payload's `request` must equal the path and its nonce must increase per key.
 */

const error = (reason: string, message: string, status = 400) =>
  reply(status, { result: "error", reason, message });

const errors = {
  badSignature: error("InvalidSignature", "InvalidSignature"),
  invalidKey: error("InvalidApiKey", "Invalid API key"),
  staleTimestamp: error("InvalidNonce", "Nonce must be increasing"),
  ipNotAllowed: error("InvalidIP", "IP address not allowed for this API key", 403),
  rateLimited: error("RateLimit", "Requests were made too frequently", 429),
  permissionDenied: error("MissingRole", "The API key does not have the required role", 403),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const h = request.headers;
  const key =
    h["x-gemini-apikey"] === undefined ? undefined : context.findKey(h["x-gemini-apikey"]);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const payload = h["x-gemini-payload"] ?? "";
  if (!safeEqual(h["x-gemini-signature"], hmac("sha384", key.secret, payload, "hex"))) {
    return { ok: false, reason: "badSignature" };
  }
  const decoded = parseJsonBody(Buffer.from(payload, "base64").toString("utf8")) as
    | { request?: unknown; nonce?: unknown }
    | undefined;
  if (decoded?.request !== request.path) return { ok: false, reason: "badSignature" };
  if (!acceptIncreasingNonce(key, String(decoded.nonce))) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * POST /v1/roles, built from the documented field list (the reference marks the sample as
 * constructed): isAuditor = read-only, isTrader = trade, isFundManager = withdraw or transfer.
 * Gemini reports no IP allow-list.
 */
export function geminiRoles(p: SimulatedPermissions): Record<string, unknown> {
  return {
    isAuditor: p.read && !p.trade && !p.withdraw && !p.transfer,
    isFundManager: p.withdraw || p.transfer,
    isTrader: p.trade,
  };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const geminiSpec: ExchangeSpec = {
  id: "gemini",
  claimedApiKey: (request) => request.headers["x-gemini-apikey"],
  authenticate,
  routes: {
    "POST /v1/roles": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? geminiRoles(key.permissions) : {}),
    },
  },
  errors,
  matchRoute: (method, path) =>
    method === "POST" && /^\/v1\/(withdraw|account\/transfer)\/[A-Za-z0-9]+$/.test(path)
      ? refuse
      : undefined,
};
