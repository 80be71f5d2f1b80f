/**
 * Every error keywarden throws is a {@link KeywardenError} with a stable `code`. Codes never change
 * meaning once published; messages are for humans and may be reworded. Messages never contain
 * secret material, and for cryptographic and authorization failures they are fixed strings that
 * reveal nothing about which check failed.
 *
 * @packageDocumentation
 */

/** Codes shared by every module. */
export const COMMON_CODES = [
  "ERR_INVALID_ARGUMENT",
  "ERR_SECRET_WIPED",
  "ERR_SECRET_NOT_SERIALIZABLE",
  "ERR_CANONICAL_INVALID_VALUE",
  "ERR_JSON_PARSE",
  "ERR_ENV_SECRET_MISSING",
  "ERR_NOT_SUPPORTED",
  "ERR_INTERNAL",
] as const;

/** Codes of `keywarden/guard`: identity and ownership. */
export const GUARD_CODES = [
  "ERR_GUARD_UNAUTHENTICATED",
  "ERR_GUARD_SESSION_INVALID",
  "ERR_GUARD_NOT_FOUND",
  "ERR_GUARD_UNREGISTERED_HANDLER",
  "ERR_GUARD_CONTEXT_TAMPERED",
] as const;

/** Codes of `keywarden/vault`: envelope encryption, KMS, grants. */
export const VAULT_CODES = [
  "ERR_VAULT_DECRYPT_FAILED",
  "ERR_VAULT_ENCRYPT_FAILED",
  "ERR_VAULT_UNAUTHORIZED",
  "ERR_VAULT_CREDENTIAL_NOT_FOUND",
  "ERR_VAULT_CREDENTIAL_DISABLED",
  "ERR_VAULT_REVISION_CONFLICT",
  "ERR_VAULT_GRANT_INVALID",
  "ERR_VAULT_GRANT_REVOKED",
  "ERR_VAULT_GRANT_EXPIRED",
  "ERR_VAULT_GRANT_SCOPE",
  "ERR_VAULT_USER_SHREDDED",
  "ERR_VAULT_USER_LOCKED",
  "ERR_VAULT_FORMAT",
  "ERR_KMS_ACCESS_DENIED",
  "ERR_KMS_INVALID_CIPHERTEXT",
  "ERR_KMS_KEY_UNAVAILABLE",
  "ERR_KMS_THROTTLED",
  "ERR_KMS_UNAVAILABLE",
  "ERR_KMS_MASTER_KEY",
] as const;

/** Codes of `keywarden/permissions`: the withdraw-permission detector and onboarding gate. */
export const PERMISSIONS_CODES = [
  "ERR_PERMISSIONS_WITHDRAW_ENABLED",
  "ERR_PERMISSIONS_TRANSFER_ENABLED",
  "ERR_PERMISSIONS_UNKNOWN",
  "ERR_PERMISSIONS_POLICY",
  "ERR_PERMISSIONS_INVALID_KEY",
  "ERR_PERMISSIONS_IP_NOT_ALLOWED",
  "ERR_PERMISSIONS_DENIED",
  "ERR_PERMISSIONS_NETWORK",
  "ERR_PERMISSIONS_UNSUPPORTED_EXCHANGE",
] as const;

/** Codes of `keywarden/audit`: chains, stores, verification, transparency. */
export const AUDIT_CODES = [
  "ERR_AUDIT_CHAIN_BROKEN",
  "ERR_AUDIT_APPEND_CONFLICT",
  "ERR_AUDIT_APPEND_CONTENDED",
  "ERR_AUDIT_INVALID_ENTRY",
  "ERR_AUDIT_SECRET_IN_PAYLOAD",
  "ERR_AUDIT_UNKNOWN_ACTION",
  "ERR_AUDIT_STORE_CORRUPT",
  "ERR_AUDIT_STORE_LOCKED",
  "ERR_AUDIT_STORE_UNAVAILABLE",
  "ERR_AUDIT_STORE_INVARIANT",
  "ERR_AUDIT_MALFORMED_INPUT",
  "ERR_AUDIT_CHECKPOINT_INVALID",
  "ERR_AUDIT_PROOF_INVALID",
  "ERR_AUDIT_INCONSISTENT_CHECKPOINT",
  "ERR_AUDIT_TILE_INVALID",
] as const;

/** Codes of `keywarden/trading`: the order wrapper and kill switch. */
export const TRADING_CODES = [
  "ERR_TRADING_METHOD_REFUSED",
  "ERR_TRADING_KILL_SWITCH_ACTIVE",
  "ERR_TRADING_RISK_LIMIT",
  "ERR_TRADING_EXCHANGE_ERROR",
  "ERR_TRADING_INTENT_NOT_RECORDED",
  "ERR_TRADING_STATE_UNAVAILABLE",
  "ERR_TRADING_PARTIAL_CANCEL",
] as const;

/** Codes of `keywarden/signer` and `keywarden/trading/remote`: the signer service and its client. */
export const SIGNER_CODES = [
  "ERR_SIGNER_RATE_LIMITED",
  "ERR_SIGNER_UNAVAILABLE",
  "ERR_SIGNER_REQUEST_TOO_LARGE",
  "ERR_SIGNER_IDEMPOTENCY_CONFLICT",
  "ERR_SIGNER_ORDER_NOT_SENT",
  "ERR_SIGNER_PROTOCOL",
] as const;

/** Every stable error code keywarden can throw. */
export type KeywardenErrorCode =
  | (typeof COMMON_CODES)[number]
  | (typeof GUARD_CODES)[number]
  | (typeof VAULT_CODES)[number]
  | (typeof PERMISSIONS_CODES)[number]
  | (typeof AUDIT_CODES)[number]
  | (typeof TRADING_CODES)[number]
  | (typeof SIGNER_CODES)[number];

/** The closed list of codes, for exhaustive checks and documentation. */
export const ERROR_CODES: readonly KeywardenErrorCode[] = [
  ...COMMON_CODES,
  ...GUARD_CODES,
  ...VAULT_CODES,
  ...PERMISSIONS_CODES,
  ...AUDIT_CODES,
  ...TRADING_CODES,
  ...SIGNER_CODES,
];

/** Options accepted by {@link KeywardenError}. */
export interface KeywardenErrorOptions {
  /**
   * The underlying error. Never pass anything that can hold secret material (raw ccxt errors carry
   * signed URLs; wrap a scrubbed copy instead).
   */
  cause?: unknown;
  /** Non-secret structured context (ids, sequence numbers, HTTP status) for programmatic handling. */
  details?: Readonly<Record<string, string | number | boolean | null>>;
}

const BRAND = Symbol.for("keywarden.error");

/**
 * Base class of every error keywarden throws.
 *
 * @example
 * ```ts
 * import { isKeywardenError } from "keywarden";
 * try {
 *   await vault.withCredentials(auth, id, use);
 * } catch (err) {
 *   if (isKeywardenError(err, "ERR_VAULT_DECRYPT_FAILED")) alertSecurityTeam();
 *   else throw err;
 * }
 * ```
 */
export class KeywardenError extends Error {
  /** Stable, machine-readable code. */
  readonly code: KeywardenErrorCode;
  /** Non-secret structured context, if any. */
  readonly details: Readonly<Record<string, string | number | boolean | null>> | undefined;

  constructor(code: KeywardenErrorCode, message: string, options: KeywardenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KeywardenError";
    this.code = code;
    this.details =
      options.details === undefined ? undefined : Object.freeze({ ...options.details });
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** `{ name, code, message, details }` — never the cause or stack, which may hold more context. */
  toJSON(): { name: string; code: KeywardenErrorCode; message: string; details?: unknown } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/**
 * True when `err` is a keywarden error (from any copy of the library loaded in the process),
 * optionally with the given code.
 */
export function isKeywardenError<C extends KeywardenErrorCode>(
  err: unknown,
  code?: C,
): err is KeywardenError & { code: C } {
  if (typeof err !== "object" || err === null) return false;
  if (!(err instanceof KeywardenError) && (err as Record<symbol, unknown>)[BRAND] !== true)
    return false;
  return code === undefined || (err as KeywardenError).code === code;
}

/** Fixed message for every decryption failure: it must not say which check failed. */
export const DECRYPT_FAILED_MESSAGE = "decryption operation failed";
/** Fixed message for every ownership failure: not-found and not-yours are indistinguishable. */
export const NOT_FOUND_MESSAGE = "resource not found";
