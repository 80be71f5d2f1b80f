/**
 * The signer's wire protocol, shared by the server (`keywarden/signer`) and the remote client
 * (`keywarden/trading/remote`). It imports only zod and the error class, so the bot's client never
 * loads the vault, the audit log, ccxt or the server framework.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import { ERROR_CODES, KeywardenError, type KeywardenErrorCode } from "../../errors.js";

/** Protocol version prefix of every bot and operator route. */
export const API = "/v1";

/** Header carrying the bot id a capability is bound to. */
export const BOT_HEADER = "x-keywarden-bot";

/** Largest request body the signer reads (bytes). */
export const MAX_BODY_BYTES = 16 * 1024;

const credentialId = z.string().min(1).max(128);
const symbol = z.string().min(1).max(64);
const optional = <T extends z.ZodType>(t: T) => t.nullable().optional();
const int = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** `POST /v1/orders`. Loosely typed values: the trading client validates them as in-process. */
export const orderBody = z.strictObject({
  credentialId,
  clientOrderId: z.string().regex(/^[A-Za-z0-9_-]{8,32}$/),
  symbol,
  type: z.string().min(1).max(16),
  side: z.string().min(1).max(8),
  amount: z.number(),
  price: optional(z.number()),
  params: optional(
    z
      .record(z.string().max(64), z.union([z.string().max(64), z.number(), z.boolean()]))
      .refine((r) => Object.keys(r).length <= 16, "too many params"),
  ),
});

/** `POST /v1/cancel`. */
export const cancelBody = z.strictObject({
  credentialId,
  orderId: z.string().min(1).max(128),
  symbol: optional(symbol),
});

/** `POST /v1/cancel-all`. */
export const cancelAllBody = z.strictObject({ credentialId, symbol: optional(symbol) });

const since = optional(int);
const limit = optional(z.number().int().min(1).max(5000));

/** Argument tuples of each private read and market-data method (JSON `null` for `undefined`). */
export const callArgs = {
  fetchOrder: z.tuple([z.string().min(1).max(128), optional(symbol)]),
  fetchOpenOrders: z.tuple([optional(symbol), since, limit]),
  fetchMyTrades: z.tuple([optional(symbol), since, limit]),
  fetchBalance: z.tuple([]),
  fetchTicker: z.tuple([symbol]),
  fetchTickers: z.tuple([optional(z.array(symbol).max(200))]),
  fetchOrderBook: z.tuple([symbol, limit]),
  fetchOHLCV: z.tuple([symbol, optional(z.string().min(1).max(8)), since, limit]),
  fetchTrades: z.tuple([symbol, since, limit]),
  fetchMarkets: z.tuple([]),
} as const;

/** A method name of {@link callArgs}. */
export type CallMethod = keyof typeof callArgs;

/** The private reads (they open credentials, action `read`). */
export const PRIVATE_READS: readonly CallMethod[] = [
  "fetchOrder",
  "fetchOpenOrders",
  "fetchMyTrades",
  "fetchBalance",
];

/** `POST /v1/call`: one allowlisted read. */
export const callBody = z.strictObject({
  credentialId,
  method: z.string().min(1).max(128),
  args: z.array(z.unknown()).max(4),
});

/** `POST /v1/killswitch`: the bot fires its own user's kill switch. */
export const killBody = z.strictObject({ reason: z.string().min(1).max(1000) });

/** `POST /v1/enrolments` (Authorization: the user's live session token). */
export const enrolBody = z.strictObject({
  botId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  exchanges: z.array(z.string().min(1).max(64)).min(1).max(64),
  actions: z.array(z.string().min(1).max(32)).min(1).max(16),
  ttlMs: z.number().int().positive(),
  certFingerprint: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

/** `POST /v1/operator/killswitch`. */
export const operatorKillBody = z.strictObject({
  userId: z.string().min(1).max(128),
  reason: z.string().min(1).max(1000),
  release: z.boolean().optional(),
});

/** `POST /v1/operator/emergency`. */
export const emergencyBody = z.strictObject({ reason: z.string().min(1).max(1000) });

/** `POST /v1/operator/revoke`. */
export const revokeBody = z.strictObject({ capabilityId: z.string().min(1).max(64) });

/** The body of every error response. */
export const errorReply = z.strictObject({
  error: z.strictObject({
    code: z.string().max(64),
    message: z.string().max(2000),
    details: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .optional(),
  }),
});

/** The HTTP status for a keywarden error code (the client reads the code, not the status). */
export function statusOf(code: string): number {
  if (code === "ERR_INVALID_ARGUMENT" || code === "ERR_JSON_PARSE") return 400;
  if (code === "ERR_GUARD_UNAUTHENTICATED" || code === "ERR_GUARD_SESSION_INVALID") return 401;
  if (code === "ERR_GUARD_NOT_FOUND" || code === "ERR_VAULT_CREDENTIAL_NOT_FOUND") return 404;
  if (code.startsWith("ERR_VAULT_") || code === "ERR_TRADING_METHOD_REFUSED") return 403;
  if (code === "ERR_TRADING_KILL_SWITCH_ACTIVE" || code === "ERR_SIGNER_IDEMPOTENCY_CONFLICT")
    return 409;
  if (code === "ERR_SIGNER_REQUEST_TOO_LARGE") return 413;
  if (code === "ERR_TRADING_RISK_LIMIT" || code === "ERR_SIGNER_ORDER_NOT_SENT") return 422;
  if (code === "ERR_SIGNER_RATE_LIMITED") return 429;
  if (code === "ERR_TRADING_EXCHANGE_ERROR") return 502;
  if (code === "ERR_SIGNER_UNAVAILABLE" || code.startsWith("ERR_KMS_")) return 503;
  return 500;
}

/** Rebuilds the typed error a signer returned; an unknown code becomes `ERR_SIGNER_PROTOCOL`. */
export function errorFromReply(body: unknown): KeywardenError {
  const parsed = errorReply.safeParse(body);
  if (!parsed.success)
    return new KeywardenError("ERR_SIGNER_PROTOCOL", "the signer sent an invalid error reply");
  const { code, message, details } = parsed.data.error;
  if (!(ERROR_CODES as readonly string[]).includes(code))
    return new KeywardenError("ERR_SIGNER_PROTOCOL", "the signer sent an unknown error code");
  return new KeywardenError(code as KeywardenErrorCode, message, details ? { details } : {});
}

/** JSON `null` back to `undefined` in an argument tuple, trailing ones dropped. */
export function argsFromWire(args: readonly unknown[]): unknown[] {
  const out = args.map((a) => (a === null ? undefined : a));
  while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
  return out;
}
