import { KeywardenError } from "../errors.js";
import { scrubText } from "../scrub.js";

/** What keywarden keeps of an exchange error: nothing that can carry a credential. */
export interface ExchangeFailure {
  /** ccxt's error class name (`InsufficientFunds`, `InvalidOrder`, `AuthenticationError`…). */
  readonly kind: string;
  /** HTTP status, when the message carried one. */
  readonly status: number | null;
  /** The exchange's own error code (`-2010`, `51008`…), when the body carried one. */
  readonly exchangeCode: string | null;
  /** The message with URLs, signatures and every credential value removed, at most 300 characters. */
  readonly message: string;
}

const CODE =
  /"(?:code|retCode|err-code|error_code|errorCode|err_code)"\s*:\s*"?(-?[A-Za-z0-9_.]{1,32})"?/;
const STATUS = /\b([1-5]\d\d) (?:[A-Z][A-Za-z]+)(?: [A-Z][A-Za-z]+)*\b/;

/**
 * Reduces a thrown exchange error to {@link ExchangeFailure}: the exchange's error code and HTTP
 * status are kept; the message is scrubbed (URLs, bearer tokens, JWTs, secret-named values, long
 * signature-like runs, and every exact credential value in its plain, URL- and base64-encoded
 * forms) and truncated.
 */
export function scrubExchangeError(
  err: unknown,
  credentialValues: readonly string[],
): ExchangeFailure {
  const ctor = (err as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  const kind = typeof ctor === "string" ? ctor : "Error";
  const raw =
    typeof (err as { message?: unknown })?.message === "string"
      ? (err as Error).message
      : String(err);
  // The code and status are short tokens read before scrubbing, which would not remove them anyway.
  const exchangeCode = CODE.exec(raw)?.[1] ?? null;
  const status = STATUS.exec(raw)?.[1];
  return {
    kind: kind.slice(0, 64),
    status: status ? Number(status) : null,
    exchangeCode,
    message: scrubText(raw, credentialValues, 300),
  };
}

/** Wraps a scrubbed failure as the typed error callers see. */
export function exchangeError(exchange: string, failure: ExchangeFailure): KeywardenError {
  return new KeywardenError(
    "ERR_TRADING_EXCHANGE_ERROR",
    `${exchange}: ${failure.kind}: ${failure.message}`,
    {
      details: {
        exchange,
        kind: failure.kind,
        status: failure.status,
        exchangeCode: failure.exchangeCode,
      },
    },
  );
}
