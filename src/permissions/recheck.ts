/**
 * Re-checking stored keys: a key's permissions can be widened on the exchange after onboarding.
 * {@link recheckKey} reads them again and disables a key that can now withdraw (or whose
 * permissions exceed or escape the policy); {@link scheduleRechecks} runs it on an interval with
 * jitter, never overlapping.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../errors.js";
import type { DetectFn, ExchangeCredentials } from "./detect.js";
import { primaryFinding } from "./findings.js";
import type { PermissionsAuditSink } from "./onboard.js";
import { decide, type PermissionPolicy, resolvePolicy } from "./policy.js";
import type { ExchangeId, Finding, FindingCode, KeyPermissions } from "./types.js";

/** One stored key to re-check. */
export interface RecheckRequest {
  readonly userId: string;
  readonly credentialId: string;
  readonly exchange: ExchangeId;
  readonly policy?: PermissionPolicy;
}

/** What {@link recheckKey} needs from the host. */
export interface RecheckDeps {
  readonly detect: DetectFn;
  /** Opens the stored credentials for the duration of `use` (e.g. the vault's `withCredentials`). */
  readonly withCredentials: <T>(
    userId: string,
    credentialId: string,
    use: (credentials: ExchangeCredentials) => Promise<T>,
  ) => Promise<T>;
  /** Disables the stored key so no further operation can open it. */
  readonly disable: (userId: string, credentialId: string, reason: string) => Promise<void>;
  readonly audit: PermissionsAuditSink;
}

/** The outcome of one re-check. */
export type RecheckOutcome =
  | { readonly status: "ok"; readonly permissions: KeyPermissions }
  | { readonly status: "disabled"; readonly findings: readonly Finding[] }
  /** Detection failed for a reason that says nothing about the key's powers (network, error body). */
  | { readonly status: "inconclusive"; readonly findings: readonly Finding[] };

/** Findings that mean the key has, or may have, more power than the policy accepts. */
const DISABLING: ReadonlySet<FindingCode> = new Set<FindingCode>([
  "WITHDRAW_ENABLED",
  "TRANSFER_ENABLED",
  "UNKNOWN_TOKEN",
  "PERMISSION_UNKNOWN",
  "IP_NOT_RESTRICTED",
  "IP_RESTRICTION_UNKNOWN",
  "IP_LIST_MISMATCH",
  "IP_LIST_UNKNOWN",
]);

/**
 * Re-reads a stored key's permissions. A key found able to withdraw (or whose permissions are
 * unknown or exceed the policy) is disabled first, then audited on the operator chain
 * (`key.disabled`) and the user's chain (`key.rejected`, reason `recheck:<code>`).
 *
 * @example
 * ```ts
 * const outcome = await recheckKey({ userId, credentialId, exchange: "okx" }, deps);
 * if (outcome.status === "disabled") notifyUser(userId);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an invalid policy; whatever
 * `withCredentials`, `disable` or `audit.append` throw.
 */
export async function recheckKey(
  request: RecheckRequest,
  deps: RecheckDeps,
): Promise<RecheckOutcome> {
  const policy = resolvePolicy(request.policy);
  const { userId, credentialId, exchange } = request;
  const probe = policy.probeExchanges.includes(exchange);
  const result = await deps.withCredentials(userId, credentialId, (credentials) =>
    deps.detect({ exchange, credentials, probe }),
  );
  const verdict = decide(result, policy);
  if (verdict.ok) return { status: "ok", permissions: verdict.permissions };
  const disabling = verdict.findings.filter((f) => DISABLING.has(f.code));
  if (disabling.length === 0) return { status: "inconclusive", findings: verdict.findings };
  const reason = `recheck:${primaryFinding(disabling)?.code ?? "PERMISSION_UNKNOWN"}`;
  /* Precondition: a key found able to withdraw is disabled before it is audited. */
  await deps.disable(userId, credentialId, reason);
  const codes = [...new Set(verdict.findings.map((f) => f.code))];
  await deps.audit.append("operator", "key.disabled", { credentialId, userId, reason });
  await deps.audit.append(`user:${userId}`, "key.rejected", { exchange, reason, findings: codes });
  return { status: "disabled", findings: verdict.findings };
}

/** Options of {@link scheduleRechecks}. */
export interface RecheckSchedulerOptions {
  /** Time between the end of one run and the start of the next, in ms (>= 1000). */
  readonly intervalMs: number;
  /** Up to this many ms added at random to each wait (spreads load across hosts). Default 0. */
  readonly jitterMs?: number;
  /** The keys to check in a run. */
  readonly listKeys: () => Promise<readonly RecheckRequest[]>;
  /** Checks one key (usually `(r) => recheckKey(r, deps)`). */
  readonly recheck: (request: RecheckRequest) => Promise<RecheckOutcome>;
  /** Called with each outcome. */
  readonly onOutcome?: (request: RecheckRequest, outcome: RecheckOutcome) => void;
  /** Called when listing or one check throws; the run goes on with the next key. */
  readonly onError?: (error: unknown, request?: RecheckRequest) => void;
  /** Random source in [0, 1), for tests. */
  readonly random?: () => number;
}

/** A running schedule. */
export interface RecheckScheduler {
  /** Runs now (or joins the run in progress): runs never overlap. */
  runNow(): Promise<void>;
  /** Stops scheduling and waits for the run in progress. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Re-checks every listed key, one at a time, then waits `intervalMs` plus up to `jitterMs` before
 * the next run. The first run starts after the first wait.
 *
 * @example
 * ```ts
 * const scheduler = scheduleRechecks({
 *   intervalMs: 3_600_000, jitterMs: 300_000,
 *   listKeys: () => listStoredKeys(), recheck: (r) => recheckKey(r, deps),
 * });
 * process.on("SIGTERM", () => void scheduler.stop());
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an interval under 1000 ms or a negative jitter.
 */
export function scheduleRechecks(options: RecheckSchedulerOptions): RecheckScheduler {
  const { intervalMs, jitterMs = 0, random = Math.random } = options;
  if (
    !Number.isFinite(intervalMs) ||
    intervalMs < 1000 ||
    !Number.isFinite(jitterMs) ||
    jitterMs < 0
  ) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "intervalMs must be >= 1000 and jitterMs >= 0",
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;

  const runOnce = async (): Promise<void> => {
    let keys: readonly RecheckRequest[] = [];
    try {
      keys = await options.listKeys();
    } catch (err) {
      options.onError?.(err);
    }
    for (const request of keys) {
      if (stopped) break;
      try {
        const outcome = await options.recheck(request);
        options.onOutcome?.(request, outcome);
      } catch (err) {
        options.onError?.(err, request);
      }
    }
  };
  const arm = () => {
    if (stopped) return;
    const wait = intervalMs + Math.floor(random() * (jitterMs + 1));
    timer = setTimeout(() => void runNow(), wait);
    timer.unref?.();
  };
  /* Precondition: a run never starts while another is in progress. */
  const runNow = (): Promise<void> => {
    if (inFlight) return inFlight;
    if (timer) clearTimeout(timer);
    timer = undefined;
    inFlight = runOnce().finally(() => {
      inFlight = undefined;
      arm();
    });
    return inFlight;
  };
  arm();
  return {
    runNow: () => (stopped ? Promise.resolve() : runNow()),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
