/**
 * Maps node-postgres errors to keywarden's typed errors. The cause is kept only for connection
 * faults (which carry no row data); constraint errors, whose `detail` can quote row values, are
 * replaced by a fixed conflict error.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";

const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTCONN",
  "EAI_AGAIN",
]);

/** SQLSTATEs after which the same request may simply be retried. */
function retryableState(code: string): boolean {
  return (
    code.startsWith("08") || // connection exception
    code === "57P01" || // admin_shutdown
    code === "57P02" || // crash_shutdown
    code === "57P03" || // cannot_connect_now
    code === "53300" || // too_many_connections
    code === "40001" || // serialization_failure
    code === "40P01" || // deadlock_detected
    code === "55P03" // lock_not_available
  );
}

/** True when `err` looks like a dropped or refused connection. */
function isConnectionLoss(err: Error): boolean {
  return /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|Connection ended|not queryable/i.test(
    err.message,
  );
}

/**
 * Converts a `pg` error (or anything thrown on the way) into a {@link KeywardenError}.
 * `ERR_AUDIT_APPEND_CONFLICT` for unique violations; `ERR_AUDIT_STORE_UNAVAILABLE` with
 * `details.retryable` for the rest.
 */
export function mapPgError(err: unknown): KeywardenError {
  if (err instanceof KeywardenError) return err;
  const code =
    typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "";
  if (code === "23505")
    return new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "seq or idempotency key already used");
  const retryable =
    retryableState(code) ||
    NETWORK.has(code) ||
    (err instanceof Error && code === "" && isConnectionLoss(err));
  const isDbError = /^[0-9A-Z]{5}$/.test(code);
  return new KeywardenError(
    "ERR_AUDIT_STORE_UNAVAILABLE",
    retryable
      ? "the PostgreSQL audit store is unavailable; retry with the same idempotency key"
      : "the PostgreSQL audit store failed",
    // Database errors may quote row values in `detail`; only connection faults keep their cause.
    {
      ...(retryable && !isDbError ? { cause: err } : {}),
      details: { retryable, sqlState: isDbError ? code : null },
    },
  );
}

interface ErrorEmitter {
  on?(event: "error", listener: (err: Error) => void): unknown;
  removeListener?(event: "error", listener: (err: Error) => void): unknown;
}

/**
 * While a connection is checked out, `pg` reports a server that goes away as an `error` event on
 * the client; unhandled, it would crash the host process. This listens for it, so the query in
 * flight fails normally and the connection is destroyed on release. Returns the unsubscribe.
 */
export function watchConnection(client: unknown, onLost: () => void): () => void {
  const c = client as ErrorEmitter;
  const listener = () => onLost();
  c.on?.("error", listener);
  return () => c.removeListener?.("error", listener);
}
