/**
 * AWS KMS / STS error mapping and bounded retries, apart from the SDK binding so it is testable
 * with plain objects: errors are classified by `err.name` (not `instanceof`: ThrottlingException
 * and AccessDeniedException are not modeled classes in client-kms), and never passed on as a
 * `cause` (SDK errors carry request metadata).
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";

const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
]);
const TRANSIENT = new Set([
  "KMSInternalException",
  "DependencyTimeoutException",
  "KeyUnavailableException",
  "InternalFailure",
  "ServiceUnavailable",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);
const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"]);
const ACCESS = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "InvalidIdentityToken",
  "InvalidIdentityTokenException",
  "ExpiredTokenException",
  "ExpiredToken",
  "IDPRejectedClaim",
  "IDPRejectedClaimException",
  "IDPCommunicationError",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
]);
const CIPHERTEXT = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);
const KEY_STATE = new Set([
  "KMSInvalidStateException",
  "DisabledException",
  "NotFoundException",
  "InvalidKeyUsageException",
]);

/** How one failure is handled. */
export type KmsFailureClass = "throttled" | "transient" | "access" | "ciphertext" | "key" | "other";

/** Classifies an SDK error by name, HTTP status and network code. */
export function classifyKmsError(err: unknown): KmsFailureClass {
  const e = (err ?? {}) as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const name = typeof e.name === "string" ? e.name : "";
  if (THROTTLING.has(name)) return "throttled";
  if (ACCESS.has(name)) return "access";
  if (CIPHERTEXT.has(name)) return "ciphertext";
  if (KEY_STATE.has(name)) return "key";
  if (TRANSIENT.has(name)) return "transient";
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return "transient";
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number" && status >= 500) return "transient";
  if (status === 429) return "throttled";
  return "other";
}

/** The typed keywarden error for a final failure (fixed messages; only the AWS error name travels). */
export function toKeywardenError(err: unknown, attempts: number): KeywardenError {
  const cls = classifyKmsError(err);
  const rawName = (err as { name?: unknown })?.name;
  const awsError = typeof rawName === "string" ? rawName.slice(0, 64) : "unknown";
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const details = { awsError, attempts, httpStatus: typeof status === "number" ? status : null };
  switch (cls) {
    case "throttled":
      return new KeywardenError("ERR_KMS_THROTTLED", "KMS throttled the request", { details });
    case "transient":
      return new KeywardenError("ERR_KMS_UNAVAILABLE", "KMS is unavailable", { details });
    case "access":
      return new KeywardenError("ERR_KMS_ACCESS_DENIED", "access denied", { details });
    case "ciphertext":
      return new KeywardenError("ERR_KMS_INVALID_CIPHERTEXT", "decryption operation failed", {
        details,
      });
    case "key":
      return new KeywardenError("ERR_KMS_KEY_UNAVAILABLE", "KMS key is not usable", { details });
    default:
      return new KeywardenError("ERR_KMS_UNAVAILABLE", "KMS request failed", { details });
  }
}

/** Retry policy: full-jitter exponential backoff, bounded in attempts and delay. */
export interface RetryOptions {
  /** Total attempts including the first. Default 4, max 10. */
  readonly maxAttempts?: number;
  /** Base delay in ms. Default 50. */
  readonly baseDelayMs?: number;
  /** Cap on one delay in ms. Default 2000. */
  readonly maxDelayMs?: number;
  /** For tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** For tests: uniform [0, 1). */
  readonly random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `call`, retrying throttling and transient (5xx, network) failures; every other failure,
 * and the last one, becomes a typed `ERR_KMS_*` error.
 *
 * @throws {KeywardenError} `ERR_KMS_THROTTLED`, `ERR_KMS_UNAVAILABLE`, `ERR_KMS_ACCESS_DENIED`,
 * `ERR_KMS_INVALID_CIPHERTEXT`, `ERR_KMS_KEY_UNAVAILABLE`.
 */
export async function withKmsRetries<T>(
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const max = Math.min(Math.max(options.maxAttempts ?? 4, 1), 10);
  const base = options.baseDelayMs ?? 50;
  const cap = options.maxDelayMs ?? 2000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (err instanceof KeywardenError) throw err; // already typed (our own checks)
      const cls = classifyKmsError(err);
      const retryable = cls === "throttled" || cls === "transient";
      if (!retryable || attempt >= max) throw toKeywardenError(err, attempt);
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1))));
    }
  }
}
