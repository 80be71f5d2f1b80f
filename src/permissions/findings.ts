/**
 * Finding construction, the fixed message for each code, and the mapping from findings to the
 * stable `ERR_PERMISSIONS_*` error codes.
 *
 * @packageDocumentation
 */
import { KeywardenError, type KeywardenErrorCode } from "../errors.js";
import type { ExchangeId, Finding, FindingCode } from "./types.js";

const MESSAGES: Readonly<Record<FindingCode, string>> = {
  WITHDRAW_ENABLED: "the key can withdraw funds",
  TRANSFER_ENABLED: "the key can transfer funds to another account",
  PERMISSION_UNKNOWN: "the key's permissions could not be determined",
  UNKNOWN_TOKEN: "the exchange reported a permission the detector does not know",
  IP_NOT_RESTRICTED: "the key is not bound to an IP allow-list",
  IP_RESTRICTION_UNKNOWN: "the exchange does not report whether the key is IP-restricted",
  IP_LIST_MISMATCH: "the key's IP allow-list holds addresses outside the configured ones",
  IP_LIST_UNKNOWN: "the exchange does not report the key's IP allow-list in full",
  READ_ONLY: "the key cannot trade",
  INVALID_KEY: "the exchange refused the key or its signature",
  IP_NOT_ALLOWED: "the exchange refused the request's source address",
  PERMISSION_DENIED: "the key lacks the permission to read its own permissions",
  NETWORK: "the exchange could not be reached",
  EXCHANGE_ERROR: "the exchange answered with an error",
  MALFORMED_RESPONSE: "the exchange's answer did not have the documented shape",
  UNSUPPORTED: "the exchange offers no way to read a key's permissions",
  PROBE_NOT_ENABLED: "this exchange needs an opt-in probe, which the policy does not enable",
};

/**
 * Builds a {@link Finding} with the fixed message of its code.
 *
 * @example
 * ```ts
 * finding("WITHDRAW_ENABLED", "binance"); // { code, exchange, message: "the key can withdraw funds" }
 * ```
 * @throws never.
 */
export function finding(
  code: FindingCode,
  exchange: ExchangeId,
  details?: Readonly<Record<string, string | number | boolean | null>>,
): Finding {
  return details === undefined
    ? { code, exchange, message: MESSAGES[code] }
    : { code, exchange, message: MESSAGES[code], details: Object.freeze({ ...details }) };
}

/** Precedence: the most severe finding decides the error code. */
const ORDER: readonly FindingCode[] = [
  "WITHDRAW_ENABLED",
  "TRANSFER_ENABLED",
  "INVALID_KEY",
  "IP_NOT_ALLOWED",
  "PERMISSION_DENIED",
  "UNKNOWN_TOKEN",
  "PERMISSION_UNKNOWN",
  "MALFORMED_RESPONSE",
  "EXCHANGE_ERROR",
  "NETWORK",
  "UNSUPPORTED",
  "PROBE_NOT_ENABLED",
  "IP_NOT_RESTRICTED",
  "IP_RESTRICTION_UNKNOWN",
  "IP_LIST_MISMATCH",
  "IP_LIST_UNKNOWN",
  "READ_ONLY",
];

const ERROR_FOR: Readonly<Record<FindingCode, KeywardenErrorCode>> = {
  WITHDRAW_ENABLED: "ERR_PERMISSIONS_WITHDRAW_ENABLED",
  TRANSFER_ENABLED: "ERR_PERMISSIONS_TRANSFER_ENABLED",
  INVALID_KEY: "ERR_PERMISSIONS_INVALID_KEY",
  IP_NOT_ALLOWED: "ERR_PERMISSIONS_IP_NOT_ALLOWED",
  PERMISSION_DENIED: "ERR_PERMISSIONS_DENIED",
  NETWORK: "ERR_PERMISSIONS_NETWORK",
  UNSUPPORTED: "ERR_PERMISSIONS_UNSUPPORTED_EXCHANGE",
  UNKNOWN_TOKEN: "ERR_PERMISSIONS_UNKNOWN",
  PERMISSION_UNKNOWN: "ERR_PERMISSIONS_UNKNOWN",
  MALFORMED_RESPONSE: "ERR_PERMISSIONS_UNKNOWN",
  EXCHANGE_ERROR: "ERR_PERMISSIONS_UNKNOWN",
  PROBE_NOT_ENABLED: "ERR_PERMISSIONS_POLICY",
  IP_NOT_RESTRICTED: "ERR_PERMISSIONS_POLICY",
  IP_RESTRICTION_UNKNOWN: "ERR_PERMISSIONS_POLICY",
  IP_LIST_MISMATCH: "ERR_PERMISSIONS_POLICY",
  IP_LIST_UNKNOWN: "ERR_PERMISSIONS_POLICY",
  READ_ONLY: "ERR_PERMISSIONS_POLICY",
};

/**
 * The finding that decides the error code: the first in severity order (withdraw first).
 *
 * @example
 * ```ts
 * primaryFinding(verdict.findings)?.code; // "WITHDRAW_ENABLED"
 * ```
 * @throws never.
 */
export function primaryFinding(findings: readonly Finding[]): Finding | undefined {
  for (const code of ORDER) {
    const hit = findings.find((f) => f.code === code);
    if (hit) return hit;
  }
  return findings[0];
}

/**
 * The {@link KeywardenError} for a rejection: code from the most severe finding, a fixed message,
 * and the finding codes (never key material) in `details`.
 *
 * @example
 * ```ts
 * if (!verdict.ok) throw rejectionError(verdict.findings);
 * ```
 * @throws never (it returns the error).
 */
export function rejectionError(findings: readonly Finding[]): KeywardenError {
  const primary = primaryFinding(findings);
  const code = primary ? ERROR_FOR[primary.code] : "ERR_PERMISSIONS_UNKNOWN";
  return new KeywardenError(
    code,
    `API key rejected: ${primary?.message ?? MESSAGES.PERMISSION_UNKNOWN}`,
    {
      details: {
        exchange: primary?.exchange ?? null,
        findings: [...new Set(findings.map((f) => f.code))].join(","),
      },
    },
  );
}
