/**
 * Structured logs through a host's pino-compatible logger, with every secret and authorization
 * field redacted before the logger sees it. keywarden logs only what its hooks observe (no
 * secret ever reaches them), and only when the host sets a logger: it never writes to the
 * console by itself.
 *
 * @packageDocumentation
 */
import { isKeywardenError, KeywardenError } from "../errors.js";
import { Secret } from "../secret.js";

/** One log method: `logger.info(obj, msg)` or `logger.info(msg)`. */
export type LogFn = (objOrMsg: unknown, msg?: string) => void;

/** A pino-compatible logger: the levels keywarden uses and `child`. A `pino()` logger fits. */
export interface LoggerLike {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): LoggerLike;
}

/** The marker that replaces a redacted value. */
export const REDACTED = "[REDACTED]";

/**
 * Field names whose values are always replaced by {@link REDACTED}, at any depth, compared
 * case-insensitively with `-` and `_` ignored: exchange secrets, KMS and data keys, tokens,
 * sessions and every HTTP authorization header the exchanges use.
 */
export const REDACTED_FIELDS: readonly string[] = Object.freeze([
  "secret",
  "apiSecret",
  "secretKey",
  "apiKey",
  "key",
  "password",
  "passphrase",
  "privateKey",
  "dataKey",
  "plaintext",
  "masterKey",
  "wrappedDataKey",
  "credentials",
  "token",
  "accessToken",
  "refreshToken",
  "idToken",
  "jwt",
  "session",
  "sessionToken",
  "authorization",
  "proxyAuthorization",
  "cookie",
  "setCookie",
  "signature",
  "sign",
  "accessKeyId",
  "secretAccessKey",
  "xMbxApikey",
  "okAccessKey",
  "okAccessSign",
  "okAccessPassphrase",
  "xBapiApiKey",
  "xBapiSign",
  "kcApiKey",
  "kcApiSign",
  "kcApiPassphrase",
  "accessKey",
  "accessSign",
  "accessPassphrase",
  "apiSign",
  "apiPassphrase",
  "xApiKey",
  "xApiSign",
]);

const normalize = (k: string) => k.replace(/[-_]/g, "").toLowerCase();
const REDACTED_SET = new Set(REDACTED_FIELDS.map(normalize));

/**
 * Pino `redact` paths for the same fields at the top level and one level down, for hosts that
 * also want pino itself to redact what they log next to keywarden.
 *
 * @example
 * ```ts
 * const logger = pino({ redact: { paths: [...LOG_REDACT_PATHS], censor: REDACTED } });
 * ```
 */
export const LOG_REDACT_PATHS: readonly string[] = Object.freeze(
  REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`]),
);

/** `value` with redacted fields replaced, Secrets masked, errors reduced to code and name. */
export function redactForLog(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value instanceof Secret) return REDACTED;
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? undefined : value;
  }
  if (seen.has(value) || depth > 8) return "[…]";
  seen.add(value);
  /* Precondition: an error is logged by its stable code and class only — its message and cause may quote secrets. */
  if (value instanceof Error)
    return { type: value.name, code: isKeywardenError(value) ? value.code : "other" };
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redactForLog(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = REDACTED_SET.has(normalize(k)) ? REDACTED : redactForLog(v, depth + 1, seen);
  }
  return out;
}

function wrapFn(fn: LogFn, target: LoggerLike): LogFn {
  return (objOrMsg, msg) => {
    try {
      if (typeof objOrMsg === "string") fn.call(target, objOrMsg);
      else fn.call(target, redactForLog(objOrMsg), msg);
    } catch {
      // A failing logger never breaks the operation being logged.
    }
  };
}

/**
 * Wraps a pino-compatible logger so that everything given to it — and to its children — is
 * redacted first (see {@link REDACTED_FIELDS}).
 *
 * @example
 * ```ts
 * import pino from "pino";
 * const log = redactingLogger(pino());
 * log.info({ apiKey: "k", exchange: "binance" }, "stored"); // {"apiKey":"[REDACTED]",...}
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `logger` lacks a level method or `child`.
 */
export function redactingLogger(logger: LoggerLike): LoggerLike {
  for (const m of ["trace", "debug", "info", "warn", "error", "child"] as const)
    if (typeof logger?.[m] !== "function")
      throw new KeywardenError("ERR_INVALID_ARGUMENT", `logger.${m} must be a function`);
  return {
    trace: wrapFn(logger.trace, logger),
    debug: wrapFn(logger.debug, logger),
    info: wrapFn(logger.info, logger),
    warn: wrapFn(logger.warn, logger),
    error: wrapFn(logger.error, logger),
    child: (bindings) =>
      redactingLogger(logger.child(redactForLog(bindings) as Record<string, unknown>)),
  };
}
