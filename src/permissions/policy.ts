/**
 * The acceptance policy and the decision: which permissions a key may hold to be stored.
 * Withdraw is always rejected; anything unknown or ambiguous is rejected.
 *
 * @packageDocumentation
 */

import { isIP } from "node:net";
import { z } from "zod";
import { KeywardenError } from "../errors.js";
import { observeDetectorVerdict } from "../observability/hooks.js";
import { finding, rejectionError } from "./findings.js";
import {
  type DetectionResult,
  type Finding,
  type KeyPermissions,
  type PermissionVerdict,
  SUPPORTED_EXCHANGES,
} from "./types.js";

/** What a host accepts. Withdraw is not configurable: a withdraw-capable key is always rejected. */
export interface PermissionPolicy {
  /**
   * Require the exchange to report the key as bound to an IP allow-list. Default `true`: exchanges
   * that do not report IP binding (Coinbase, Bitfinex, Gemini) are then rejected.
   */
  readonly requireIpRestriction?: boolean;
  /**
   * The host's outbound addresses. When set (and IP restriction is required), a reported allow-list
   * must contain only these; an exchange that reports no list, or masks it, fails this check.
   */
  readonly allowedOutboundIps?: readonly string[];
  /** Accept keys that cannot trade. Default `false`. */
  readonly acceptReadOnly?: boolean;
  /** Reject keys that can transfer funds to another account. Default `true`. */
  readonly rejectTransfer?: boolean;
  /** Exchanges whose opt-in read-only probe may run (exchanges without a permission endpoint). */
  readonly probeExchanges?: readonly (typeof SUPPORTED_EXCHANGES)[number][];
}

const PolicySchema = z.strictObject({
  requireIpRestriction: z.boolean().optional(),
  allowedOutboundIps: z
    .array(z.string().refine((ip) => isIP(ip) !== 0, "not an IP address"))
    .optional(),
  acceptReadOnly: z.boolean().optional(),
  rejectTransfer: z.boolean().optional(),
  probeExchanges: z.array(z.enum(SUPPORTED_EXCHANGES)).optional(),
});

/** A validated policy with defaults filled in. */
export type ResolvedPolicy = Required<Omit<PermissionPolicy, "allowedOutboundIps">> & {
  readonly allowedOutboundIps?: readonly string[];
};

/**
 * Validates `policy` and fills the defaults (IP restriction required, read-only keys refused,
 * transfer refused, no probes).
 *
 * @example
 * ```ts
 * const policy = resolvePolicy({ allowedOutboundIps: ["203.0.113.7"] });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when a field has the wrong type or an address
 * is not an IP.
 */
export function resolvePolicy(policy: PermissionPolicy = {}): ResolvedPolicy {
  const parsed = PolicySchema.safeParse(policy);
  if (!parsed.success) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid permission policy", {
      details: { issues: parsed.error.issues.map((i) => i.path.join(".")).join(",") },
    });
  }
  const p = parsed.data;
  return Object.freeze({
    requireIpRestriction: p.requireIpRestriction ?? true,
    acceptReadOnly: p.acceptReadOnly ?? false,
    rejectTransfer: p.rejectTransfer ?? true,
    probeExchanges: Object.freeze([...(p.probeExchanges ?? [])]),
    ...(p.allowedOutboundIps
      ? { allowedOutboundIps: Object.freeze([...p.allowedOutboundIps]) }
      : {}),
  });
}

/** Canonical text of an address, so `::ffff:1.2.3.4`-style spellings compare equal. */
function normalizeIp(ip: string): string {
  const trimmed = ip.trim();
  if (isIP(trimmed) === 6) return new URL(`http://[${trimmed}]/`).hostname;
  return trimmed;
}

/**
 * Judges `permissions` against `policy`. Returns every reason for rejection, or `ok: true`.
 *
 * @example
 * ```ts
 * const verdict = evaluatePermissions(result.permissions, { acceptReadOnly: true });
 * if (!verdict.ok) rejectKey(verdict.findings.map((f) => f.code));
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an invalid policy.
 */
export function evaluatePermissions(
  permissions: KeyPermissions,
  policy: PermissionPolicy = {},
): PermissionVerdict {
  const p = resolvePolicy(policy);
  const ex = permissions.exchange;
  const findings: Finding[] = [];
  /* Precondition: a withdraw-capable key is rejected whatever the policy says. */
  if (permissions.withdraw === true) findings.push(finding("WITHDRAW_ENABLED", ex));
  if (permissions.transfer === true && p.rejectTransfer) {
    findings.push(finding("TRANSFER_ENABLED", ex));
  }
  for (const token of permissions.unknownTokens) {
    findings.push(finding("UNKNOWN_TOKEN", ex, { token: token.slice(0, 64) }));
  }
  /* Precondition: an unknown capability is rejected, never read as "off". */
  for (const cap of ["read", "trade", "withdraw", "transfer"] as const) {
    if (cap === "transfer" && !p.rejectTransfer) continue;
    if (permissions[cap] === "unknown") {
      findings.push(finding("PERMISSION_UNKNOWN", ex, { capability: cap }));
    }
  }
  if (permissions.trade === false && !p.acceptReadOnly) findings.push(finding("READ_ONLY", ex));
  if (p.requireIpRestriction) {
    if (permissions.ipRestricted === false) findings.push(finding("IP_NOT_RESTRICTED", ex));
    else if (permissions.ipRestricted === "unknown") {
      findings.push(finding("IP_RESTRICTION_UNKNOWN", ex));
    } else if (p.allowedOutboundIps) {
      const allowed = new Set(p.allowedOutboundIps.map(normalizeIp));
      const list = permissions.ipAllowList;
      /* Precondition: a masked or unreported allow-list fails the outbound-address check. */
      if (list === undefined) findings.push(finding("IP_LIST_UNKNOWN", ex));
      else if (list.length === 0 || list.some((ip) => !allowed.has(normalizeIp(ip)))) {
        findings.push(finding("IP_LIST_MISMATCH", ex, { entries: list.length }));
      }
    }
  }
  return findings.length === 0
    ? { ok: true, permissions }
    : { ok: false, findings: Object.freeze(findings), permissions };
}

/**
 * Combines a detection result with the policy: a failed detection is a rejection with its
 * findings; a successful one is judged by {@link evaluatePermissions}.
 *
 * @example
 * ```ts
 * const verdict = decide(await detect({ exchange, credentials }), policy);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an invalid policy.
 */
export function decide(result: DetectionResult, policy: PermissionPolicy = {}): PermissionVerdict {
  let verdict: PermissionVerdict;
  if (!result.ok) {
    resolvePolicy(policy);
    verdict = { ok: false, findings: result.findings };
  } else verdict = evaluatePermissions(result.permissions, policy);
  const exchange = result.ok ? result.permissions.exchange : result.findings[0]?.exchange;
  observeDetectorVerdict(exchange ?? "unknown", verdict);
  return verdict;
}

/**
 * The throwing form of {@link decide}: returns the accepted permissions or throws.
 *
 * @example
 * ```ts
 * const permissions = assertPermissionsAccepted(await detect(request), policy);
 * ```
 * @throws {KeywardenError} `ERR_PERMISSIONS_WITHDRAW_ENABLED`, `ERR_PERMISSIONS_TRANSFER_ENABLED`,
 * `ERR_PERMISSIONS_INVALID_KEY`, `ERR_PERMISSIONS_IP_NOT_ALLOWED`, `ERR_PERMISSIONS_DENIED`,
 * `ERR_PERMISSIONS_NETWORK`, `ERR_PERMISSIONS_UNSUPPORTED_EXCHANGE`, `ERR_PERMISSIONS_UNKNOWN`
 * or `ERR_PERMISSIONS_POLICY`, from the most severe finding.
 */
export function assertPermissionsAccepted(
  result: DetectionResult,
  policy: PermissionPolicy = {},
): KeyPermissions {
  const verdict = decide(result, policy);
  if (!verdict.ok) throw rejectionError(verdict.findings);
  return verdict.permissions;
}
