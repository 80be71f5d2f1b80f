/**
 * The onboarding gate: a key's permissions are read and judged BEFORE anything is stored. A key
 * that can withdraw, or whose permissions are unknown or ambiguous, is refused: not stored, not
 * logged, not retried, its secrets wiped, and only a `key.rejected` audit entry written.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { JsonValue } from "../canonical.js";
import { KeywardenError } from "../errors.js";
import { Secret } from "../secret.js";
import type { DetectFn, ExchangeCredentials } from "./detect.js";
import { primaryFinding, rejectionError } from "./findings.js";
import { decide, type PermissionPolicy, resolvePolicy } from "./policy.js";
import { type ExchangeId, type KeyPermissions, SUPPORTED_EXCHANGES } from "./types.js";

/**
 * Where the gate records what it decided. Structurally the same as the vault's audit sink and
 * `keywarden/audit`'s appender: `chain` is `user:<userId>` or `operator`, payloads hold ids, exchange
 * names and finding codes only.
 */
export interface PermissionsAuditSink {
  append(
    chain: string,
    action: string,
    payload: { readonly [key: string]: JsonValue },
  ): Promise<unknown>;
}

/** What {@link onboardKey} needs from the host. */
export interface OnboardDeps {
  /** Reads the key's permissions (the ccxt binding's `createCcxtDetector()`). */
  readonly detect: DetectFn;
  /** Stores an accepted key (e.g. the vault's `store`); must copy what it keeps: the gate wipes after. */
  readonly storeCredential: (
    userId: string,
    exchange: ExchangeId,
    credentials: ExchangeCredentials,
  ) => Promise<{ readonly credentialId: string }>;
  readonly audit: PermissionsAuditSink;
}

/** One onboarding request. The gate owns `credentials` from here on and wipes them when done. */
export interface OnboardRequest {
  readonly userId: string;
  readonly exchange: ExchangeId;
  readonly credentials: ExchangeCredentials;
  readonly policy?: PermissionPolicy;
}

/** An accepted key. */
export interface OnboardResult {
  readonly credentialId: string;
  readonly permissions: KeyPermissions;
}

const Request = z.object({
  userId: z.string().min(1).max(128),
  exchange: z.enum(SUPPORTED_EXCHANGES),
  credentials: z.object({
    apiKey: z.union([z.string().min(1).max(512), z.custom<Secret>((v) => Secret.isSecret(v))]),
    secret: z.custom<Secret>((v) => Secret.isSecret(v)),
    password: z.custom<Secret>((v) => Secret.isSecret(v)).optional(),
    uid: z.union([z.string().max(64), z.custom<Secret>((v) => Secret.isSecret(v))]).optional(),
  }),
});

/**
 * Wipes every secret container among the credentials. Idempotent.
 *
 * @example
 * ```ts
 * wipeCredentials({ apiKey: "k", secret, password });
 * ```
 * @throws never.
 */
export function wipeCredentials(credentials: ExchangeCredentials | undefined): void {
  if (!credentials || typeof credentials !== "object") return;
  for (const value of Object.values(credentials)) if (Secret.isSecret(value)) value.wipe();
}

/** The capability names recorded with `key.onboarded`. */
function grantedNames(p: KeyPermissions): string[] {
  return (["read", "trade", "ipRestricted"] as const).filter((c) => p[c] === true);
}

/**
 * Reads the key's permissions and stores it only if the policy accepts them.
 *
 * - Withdraw-capable → `ERR_PERMISSIONS_WITHDRAW_ENABLED`: not stored, secrets wiped, one
 *   `key.rejected` entry (`exchange`, `reason`, `findings` codes) on the user's chain.
 * - Unknown, ambiguous, failed detection or any other policy finding → rejected the same way with
 *   the code of the most severe finding. Nothing is retried.
 * - Accepted → `storeCredential`, then `key.onboarded` (`credentialId`, `exchange`, granted
 *   capability names). The credentials are wiped after the store resolves.
 *
 * @example
 * ```ts
 * const { credentialId } = await onboardKey(
 *   { userId, exchange: "binance", credentials: { apiKey, secret }, policy },
 *   { detect: createCcxtDetector(), storeCredential, audit },
 * );
 * ```
 * @throws {KeywardenError} `ERR_PERMISSIONS_WITHDRAW_ENABLED`, `ERR_PERMISSIONS_TRANSFER_ENABLED`,
 * `ERR_PERMISSIONS_UNKNOWN`, `ERR_PERMISSIONS_POLICY`, `ERR_PERMISSIONS_INVALID_KEY`,
 * `ERR_PERMISSIONS_IP_NOT_ALLOWED`, `ERR_PERMISSIONS_DENIED`, `ERR_PERMISSIONS_NETWORK`,
 * `ERR_PERMISSIONS_UNSUPPORTED_EXCHANGE` on rejection; `ERR_INVALID_ARGUMENT` for a malformed
 * request; whatever `storeCredential` or `audit.append` throw.
 */
export async function onboardKey(
  request: OnboardRequest,
  deps: OnboardDeps,
): Promise<OnboardResult> {
  try {
    const parsed = Request.safeParse(request);
    if (!parsed.success) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid onboarding request", {
        details: { issues: parsed.error.issues.map((i) => i.path.join(".")).join(",") },
      });
    }
    const { userId, exchange, credentials } = request;
    const policy = resolvePolicy(request.policy);
    const probe = policy.probeExchanges.includes(exchange);
    /* Precondition: detection runs before anything is stored. */
    const result = await deps.detect({ exchange, credentials, probe });
    const verdict = decide(result, policy);
    if (!verdict.ok) {
      /* Precondition: a rejected key's secrets are wiped before anything else happens. */
      wipeCredentials(credentials);
      const codes = [...new Set(verdict.findings.map((f) => f.code))];
      await deps.audit.append(`user:${userId}`, "key.rejected", {
        exchange,
        reason: primaryFinding(verdict.findings)?.code ?? "PERMISSION_UNKNOWN",
        findings: codes,
      });
      throw rejectionError(verdict.findings);
    }
    const { credentialId } = await deps.storeCredential(userId, exchange, credentials);
    await deps.audit.append(`user:${userId}`, "key.onboarded", {
      credentialId,
      exchange,
      permissions: grantedNames(verdict.permissions),
    });
    return { credentialId, permissions: verdict.permissions };
  } finally {
    wipeCredentials(request?.credentials);
  }
}
