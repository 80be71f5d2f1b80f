import { KeywardenError } from "../errors.js";

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
 * Reduces a thrown exchange error to {@link ExchangeFailure}: URLs (which carry signatures and
 * keys in their query strings) become `<url>`, every exact credential value (and its URL- and
 * base64-encoded forms) becomes `[REDACTED]`, long hex/base64 runs that look like signatures are
 * cut, and the result is truncated.
 */
export function scrubExchangeError(
  err: unknown,
  credentialValues: readonly string[],
): ExchangeFailure {
  const kind =
    typeof (err as { constructor?: { name?: unknown } })?.constructor?.name === "string"
      ? ((err as { constructor: { name: string } }).constructor.name as string)
      : "Error";
  let message =
    typeof (err as { message?: unknown })?.message === "string"
      ? (err as Error).message
      : String(err);
  for (const value of credentialValues) {
    if (value.length < 4) continue;
    for (const form of new Set([
      value,
      encodeURIComponent(value),
      Buffer.from(value).toString("base64"),
    ])) {
      message = message.split(form).join("[REDACTED]");
    }
  }
  const exchangeCode = CODE.exec(message)?.[1] ?? null;
  const status = STATUS.exec(message)?.[1];
  message = message
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, "<url>")
    .replace(/[?&][A-Za-z_]*(?:signature|sign|key|token|passphrase)[A-Za-z_]*=[^&\s"]*/gi, "")
    .replace(/\b[A-Fa-f0-9]{32,}\b/g, "[REDACTED]")
    .replace(/[A-Za-z0-9+/_-]{40,}={0,2}/g, "[REDACTED]");
  if (message.length > 300) message = `${message.slice(0, 297)}...`;
  return { kind: kind.slice(0, 64), status: status ? Number(status) : null, exchangeCode, message };
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
