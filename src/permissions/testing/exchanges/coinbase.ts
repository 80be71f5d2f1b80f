import { createPublicKey, type KeyObject } from "node:crypto";
import { decodeProtectedHeader, jwtVerify } from "jose";
import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  reply,
  type SimRequest,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * Coinbase Advanced Trade with CDP keys, as ccxt 4.5.84 signs it: `Authorization: Bearer <JWT>`,
 * ES256 over P-256, header `kid` = key name, claims iss "coinbase-cloud", aud
 * ["retail_rest_api_proxy"], sub = key name, uri = "METHOD host/path" (no query), nbf/iat now,
 * exp = nbf + 120. Verified with jose against the public key derived from the test private key.
 */

const errors = {
  badSignature: reply(401, "Unauthorized\n"),
  invalidKey: reply(401, "Unauthorized\n"),
  staleTimestamp: reply(401, "Unauthorized\n"),
  ipNotAllowed: reply(401, "Unauthorized\n"),
  rateLimited: reply(429, {
    error: "rate_limit_exceeded",
    error_details: "Too many requests",
    message: "Too many requests",
  }),
  permissionDenied: reply(403, {
    error: "PERMISSION_DENIED",
    error_details: "Missing required scopes",
    message: "Missing required scopes",
  }),
} as const;

const publicKeys = new WeakMap<object, KeyObject>();

function bearer(request: SimRequest): string | undefined {
  const value = request.headers.authorization;
  return value?.startsWith("Bearer ") ? value.slice("Bearer ".length) : undefined;
}

function claimedKid(request: SimRequest): string | undefined {
  const token = bearer(request);
  if (token === undefined) return undefined;
  try {
    const kid = decodeProtectedHeader(token).kid;
    return typeof kid === "string" ? kid : undefined;
  } catch {
    return undefined;
  }
}

async function authenticate(request: SimRequest, context: AuthContext): Promise<AuthResult> {
  const token = bearer(request);
  const kid = claimedKid(request);
  const key = kid === undefined ? undefined : context.findKey(kid);
  if (token === undefined || key === undefined) return { ok: false, reason: "invalidKey" };
  let publicKey = publicKeys.get(key);
  if (publicKey === undefined) {
    try {
      publicKey = createPublicKey(key.secret);
    } catch {
      return { ok: false, reason: "invalidKey" };
    }
    publicKeys.set(key, publicKey);
  }
  try {
    const { payload } = await jwtVerify(token, publicKey, {
      algorithms: ["ES256"],
      issuer: "coinbase-cloud",
      audience: "retail_rest_api_proxy",
      subject: key.apiKey,
      currentDate: new Date(context.now()),
      requiredClaims: ["exp", "nbf", "uri"],
    });
    const lifetime = (payload.exp ?? 0) - (payload.nbf ?? 0);
    if (lifetime <= 0 || lifetime > 120) return { ok: false, reason: "staleTimestamp" };
    if (payload.uri !== `${request.method} ${request.host}${request.path}`) {
      return { ok: false, reason: "badSignature" };
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { ok: false, reason: code === "ERR_JWT_EXPIRED" ? "staleTimestamp" : "badSignature" };
  }
  return { ok: true, key };
}

/**
 * GET /api/v3/brokerage/key_permissions, built from the documented schema fields (the reference
 * notes the values are illustrative): can_view = read, can_trade = trade, can_transfer =
 * transfer or withdraw. Coinbase reports no IP allow-list.
 */
export function coinbaseKeyPermissions(p: SimulatedPermissions): Record<string, unknown> {
  return {
    can_view: p.read,
    can_trade: p.trade,
    can_transfer: p.transfer || p.withdraw,
    portfolio_uuid: "8f3b9c7e-4a52-4d8e-9b1f-2c6d7e8f9a0b",
    portfolio_type: "DEFAULT",
  };
}

export const coinbaseSpec: ExchangeSpec = {
  id: "coinbase",
  claimedApiKey: claimedKid,
  authenticate,
  routes: {
    "GET /api/v3/brokerage/key_permissions": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? coinbaseKeyPermissions(key.permissions) : {}),
    },
  },
  errors,
  /* v2 "send money" (a withdrawal) and v3 portfolio fund moves: counted and refused. */
  matchRoute: (method, path) =>
    method === "POST" &&
    (/^\/v2\/accounts\/[^/]+\/transactions$/.test(path) ||
      path === "/api/v3/brokerage/portfolios/move_funds")
      ? { auth: "signed", withdraw: true, handle: () => errors.permissionDenied }
      : undefined,
};
