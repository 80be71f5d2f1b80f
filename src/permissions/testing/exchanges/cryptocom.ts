import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  hmac,
  isFresh,
  parseJsonBody,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";

/*
 * Crypto.com Exchange v1: JSON body {id, method, params, api_key, sig, nonce}; sig = hex
 * HMAC-SHA256(method + id + api_key + paramsString + nonce) keyed with the secret, where
 * paramsString concatenates sorted keys and values (arrays flattened, 3 levels). Nonce (ms) within
 * 60 s. There is no permission read-back endpoint: `private/get-withdrawal-history` is the probe
 * (succeeds only for a withdraw-enabled key; the exact denial code is UNCONFIRMED).
 */

const error = (code: number, message: string, status = 400) =>
  reply(status, { id: 0, method: "", code, message });

const errors = {
  badSignature: error(40101, "Not authenticated", 401),
  invalidKey: error(40101, "Not authenticated", 401),
  staleTimestamp: error(40102, "Nonce value differs by more than 60 seconds from server", 401),
  ipNotAllowed: error(40103, "IP address not whitelisted", 401),
  rateLimited: error(42901, "Requests have exceeded rate limits", 429),
  permissionDenied: error(10002, "UNAUTHORIZED", 401),
} as const;

/** Crypto.com's documented parameter string (sorted keys, values concatenated, depth 3). */
export function paramsString(value: unknown, level = 0): string {
  if (level >= 3) return String(value);
  if (typeof value === "string") return value;
  if (typeof value !== "object" || value === null) return String(value);
  const record = value as Record<string, unknown>;
  const keys = Array.isArray(value) ? (value as unknown[]) : Object.keys(record).sort();
  let out = "";
  for (const k of keys) {
    const name = String(k);
    const v = record[name];
    out += name;
    if (Array.isArray(v)) for (const item of v) out += paramsString(item, level + 1);
    else out += v === undefined ? "null" : String(v);
  }
  return out;
}

interface RpcBody {
  id?: unknown;
  method?: unknown;
  params?: unknown;
  api_key?: unknown;
  sig?: unknown;
  nonce?: unknown;
}

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const body = parseJsonBody(request.body) as RpcBody | undefined;
  const apiKey = typeof body?.api_key === "string" ? body.api_key : undefined;
  const key = apiKey === undefined ? undefined : context.findKey(apiKey);
  if (body === undefined || key === undefined || apiKey === undefined) {
    return { ok: false, reason: "invalidKey" };
  }
  const method = String(body.method);
  const payload = `${method}${String(body.id)}${apiKey}${paramsString(body.params ?? {})}${String(body.nonce)}`;
  if (
    typeof body.sig !== "string" ||
    !safeEqual(body.sig, hmac("sha256", key.secret, payload, "hex"))
  ) {
    return { ok: false, reason: "badSignature" };
  }
  if (`/exchange/v1/${method}` !== request.path) return { ok: false, reason: "badSignature" };
  if (!isFresh(Number(body.nonce), context.now(), 60_000))
    return { ok: false, reason: "staleTimestamp" };
  return { ok: true, key };
}

export const cryptocomSpec: ExchangeSpec = {
  id: "cryptocom",
  claimedApiKey: (request) => {
    const body = parseJsonBody(request.body) as RpcBody | undefined;
    return typeof body?.api_key === "string" ? body.api_key : undefined;
  },
  authenticate,
  routes: {
    "POST /exchange/v1/private/get-withdrawal-history": {
      auth: "signed",
      handle: ({ key, request }) => {
        const id = (parseJsonBody(request.body) as RpcBody | undefined)?.id ?? 0;
        if (key?.permissions.withdraw !== true) {
          return reply(401, {
            id,
            method: "private/get-withdrawal-history",
            code: 10002,
            message: "UNAUTHORIZED",
          });
        }
        return reply(200, {
          id,
          method: "private/get-withdrawal-history",
          code: 0,
          result: { withdrawal_list: [] },
        });
      },
    },
    "POST /exchange/v1/private/create-withdrawal": {
      auth: "signed",
      withdraw: true,
      handle: () => errors.permissionDenied,
    },
  },
  errors,
};
