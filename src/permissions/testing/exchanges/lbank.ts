import { createHash, createPrivateKey, createPublicKey, verify } from "node:crypto";
import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  hmac,
  isFresh,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * LBank v2 (lbank.com/docs "Signature"; support article 21533217989145 "API Private Key
 * Encryption Update"), as ccxt signs it: the form body carries `api_key`, the call's parameters
 * and `sign`; the headers carry `timestamp` (ms), `signature_method` and `echostr`. The string to
 * sign is every body parameter but `sign`, plus the three header values, sorted by name and joined
 * as raw `name=value&…`; its MD5, hex upper-cased, is signed: `HmacSHA256` → hex HMAC-SHA256 keyed
 * with the secret; `RSA` (ccxt uses it for secrets longer than 32 characters: a base64 PKCS#8
 * private key) → base64 RSA-SHA256, checked here with the key's derived public key. The simulator
 * accepts a timestamp within 60 s of its clock (LBank documents no window).
 */

const error = (code: number) =>
  reply(200, { result: "false", error_code: code, ts: 1_701_234_567_890 });

/** Error codes: support article 21534616606105, "REST API Error Codes". */
const errors = {
  badSignature: error(10007), // Invalid signature
  invalidKey: error(10005), // API key does not exist
  staleTimestamp: error(10007), // no documented code; the timestamp is part of the signed string
  ipNotAllowed: error(10022), // Insufficient API key permissions (no IP-specific code documented)
  rateLimited: error(10004), // User requests too frequent
  permissionDenied: error(10022),
} as const;

/** The signed parameters of a request: the form body plus the three signing headers. */
function signedParams(request: SimRequest): URLSearchParams | undefined {
  const h = request.headers;
  if (!(h["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) return undefined;
  const params = new URLSearchParams(request.body);
  for (const name of ["timestamp", "signature_method", "echostr"] as const) {
    const value = h[name];
    if (value === undefined || params.has(name)) return undefined;
    params.set(name, value);
  }
  return params;
}

/** True when `sign` is the key's signature of `digest` by the method the request names. */
function signatureMatches(method: string, secret: string, digest: string, sign: string): boolean {
  if (method === "HmacSHA256") {
    return safeEqual(sign, hmac("sha256", secret, digest, "hex"));
  }
  if (method !== "RSA") return false;
  try {
    const der = Buffer.from(secret, "base64");
    const publicKey = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
    return verify("RSA-SHA256", Buffer.from(digest), publicKey, Buffer.from(sign, "base64"));
  } catch {
    return false;
  }
}

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const params = signedParams(request);
  const apiKey = params?.get("api_key");
  const key = apiKey == null ? undefined : context.findKey(apiKey);
  if (params === undefined || key === undefined) return { ok: false, reason: "invalidKey" };
  const sign = params.get("sign") ?? "";
  params.delete("sign");
  const names = [...new Set(params.keys())].sort();
  /* Precondition: an LBank request carries each signed parameter once. */
  if (names.some((n) => params.getAll(n).length !== 1))
    return { ok: false, reason: "badSignature" };
  const text = names.map((n) => `${n}=${params.get(n)}`).join("&");
  const digest = createHash("md5").update(text, "utf8").digest("hex").toUpperCase();
  const method = params.get("signature_method") ?? "";
  if (!signatureMatches(method, key.secret, digest, sign)) {
    return { ok: false, reason: "badSignature" };
  }
  if (!/^[A-Za-z0-9]{30,40}$/.test(params.get("echostr") ?? "")) {
    return { ok: false, reason: "badSignature" };
  }
  const timestamp = params.get("timestamp") ?? "";
  if (!/^\d{13}$/.test(timestamp) || !isFresh(Number(timestamp), context.now(), 60_000)) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * The answer of POST /v2/supplement/api_Restrictions.do in the shape of the LBank fixtures
 * (test/permissions/fixtures/lbank: LBank's v2 envelope; the `data` field names are an
 * assumption, as no official sample was found): one boolean per console purpose, the transfer
 * flag only when on.
 */
export function lbankApiRestrictions(p: SimulatedPermissions): Record<string, unknown> {
  return {
    result: "true",
    data: {
      enableReading: p.read,
      enableSpotAndMarginTrading: p.trade,
      enableWithdrawals: p.withdraw,
      ...(p.transfer ? { enableInternalTransfer: true } : {}),
    },
    error_code: 0,
    ts: 1_701_234_567_890,
  };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const lbankSpec: ExchangeSpec = {
  id: "lbank",
  claimedApiKey: (request) => new URLSearchParams(request.body).get("api_key") ?? undefined,
  authenticate,
  routes: {
    "POST /v2/supplement/api_Restrictions.do": {
      auth: "signed",
      handle: ({ key }) => reply(200, key ? lbankApiRestrictions(key.permissions) : {}),
    },
    "POST /v2/supplement/withdraw.do": refuse,
    "POST /v2/withdraw.do": refuse,
    "POST /v2/spot/wallet/withdraw.do": refuse,
  },
  errors,
};
