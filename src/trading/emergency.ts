import { z } from "zod";
import { OPERATOR_CHAIN_ID, userChainId } from "../audit/core/portable.js";
import { KeywardenError } from "../errors.js";
import { requireIdentity } from "../guard/context.js";
import type { Identity } from "../guard/identity.js";
import { publicHandler } from "../guard/public-handler.js";
import { observeKillSwitch } from "../observability/hooks.js";
import type { TradingAudit } from "./ports.js";
import type { KillSwitchState, TradingStateStore } from "./state.js";

/** The operator-level vault operations emergency revocation needs; none of them decrypts. */
export interface EmergencyVault {
  /** Every user with stored credentials or grants. */
  listUserIds(operator: Identity): Promise<readonly string[]>;
  /**
   * Blocks every credential of `userId` until the user re-authorizes with a live session (the
   * vault's key-free emergency lock); returns how many enabled credential sets it newly blocked.
   */
  disableAllCredentials(operator: Identity, userId: string, reason: string): Promise<number>;
  /** Revokes every live grant of `userId`; returns how many. */
  revokeAllGrants(operator: Identity, userId: string, reason: string): Promise<number>;
}

/** Sent to the host for each user, to tell them to rotate their keys on the exchange. */
export interface RotateKeysNotice {
  readonly userId: string;
  readonly kind: "rotate-keys";
  readonly reason: string;
  /** Open orders were not canceled: canceling needs the user's keys, which were just locked. */
  readonly openOrdersCanceled: false;
}

/** What {@link emergencyRevokeAll} did. */
export interface EmergencyReport {
  readonly users: number;
  readonly credentialsDisabled: number;
  readonly grantsRevoked: number;
  /** Users for whom a step failed (each still has its kill switch fired first). */
  readonly failures: ReadonlyArray<{ userId: string; step: string; code: string }>;
}

/** Options of {@link emergencyRevokeAll}. */
export interface EmergencyOptions {
  readonly state: TradingStateStore;
  readonly audit: TradingAudit;
  readonly vault: EmergencyVault;
  /** Receives one notice per user (email them, show a banner). Failures are ignored, never fatal. */
  readonly notify?: ((notice: RotateKeysNotice) => void | Promise<void>) | undefined;
}

/**
 * The operator's emergency stop for a suspected leak of the key store: for every user it fires the
 * kill switch (no new orders), disables every stored credential and revokes every trading grant
 * until the user re-authorizes, records it on the user's chain and on the operator chain, and
 * emits a notice telling the user to rotate their keys on the exchange. It decrypts nothing, so
 * it works when the KMS is the thing under suspicion — and for the same reason it cannot cancel
 * open orders; the notice says so.
 *
 * @example
 * ```ts
 * await runAs(operatorIdentity("ops-1"), () =>
 *   emergencyRevokeAll("key store exposed in backup bucket", { state, audit: log, vault: vaultOps, notify }));
 * ```
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED` unless the caller is an operator;
 * `ERR_INVALID_ARGUMENT` for an empty reason.
 */
export const emergencyRevokeAll = publicHandler(
  {
    name: "trading.emergencyRevokeAll",
    reason:
      "operator-only: refuses every identity that is not an operator, and acts on all users by design",
  },
  async (reason: string, options: EmergencyOptions): Promise<EmergencyReport> => {
    const operator = requireIdentity();
    /* Precondition: only an operator can trigger emergency revocation. */
    if (operator.kind !== "operator")
      throw new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
    z.string().min(1).max(1000).parse(reason);
    const { state, audit, vault, notify } = options;
    const users = await vault.listUserIds(operator);
    const failures: Array<{ userId: string; step: string; code: string }> = [];
    let credentialsDisabled = 0;
    let grantsRevoked = 0;
    const codeOf = (err: unknown) =>
      String((err as { code?: unknown })?.code ?? "error").slice(0, 64);
    for (const userId of users) {
      const fired: KillSwitchState = {
        active: true,
        reason: `emergency: ${reason}`.slice(0, 1000),
        changedBy: `operator:${operator.userId}`,
        changedAt: new Date().toISOString(),
      };
      // Each step is attempted for every user even when an earlier one failed: fail safe, not fast.
      try {
        await state.set(userId, fired);
        observeKillSwitch("active", "emergency");
      } catch (err) {
        failures.push({ userId, step: "killswitch", code: codeOf(err) });
      }
      try {
        credentialsDisabled += await vault.disableAllCredentials(operator, userId, reason);
      } catch (err) {
        failures.push({ userId, step: "credentials", code: codeOf(err) });
      }
      try {
        grantsRevoked += await vault.revokeAllGrants(operator, userId, reason);
      } catch (err) {
        failures.push({ userId, step: "grants", code: codeOf(err) });
      }
      try {
        await audit.appendEntry(userChainId(userId), {
          action: "killswitch.fired",
          payload: {
            scope: "all",
            reason: fired.reason ?? reason,
            cancels: [{ exchange: "*", credentialId: "*", outcome: "not-authorized", attempts: 0 }],
          },
          actor: operator,
        });
      } catch (err) {
        failures.push({ userId, step: "audit", code: codeOf(err) });
      }
      try {
        await notify?.({ userId, kind: "rotate-keys", reason, openOrdersCanceled: false });
      } catch {
        // A notification channel failure must not stop the revocation of the next user.
      }
    }
    const report: EmergencyReport = {
      users: users.length,
      credentialsDisabled,
      grantsRevoked,
      failures,
    };
    await audit.appendEntry(OPERATOR_CHAIN_ID, {
      action: "emergency.revoked",
      payload: {
        reason,
        users: users.length,
        credentialsDisabled,
        grantsRevoked,
        failures: failures.length,
      },
      actor: operator,
    });
    return report;
  },
);
