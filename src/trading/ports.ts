/**
 * What the trading module needs from the vault and the audit log, typed structurally so that a
 * host can pass keywarden's own (`Vault`, `AuditLog`) or a wrapper of them.
 */
import type { Identity } from "../guard/identity.js";
import type { Secret } from "../secret.js";

/** Non-secret metadata of one stored credential set. */
export interface TradingCredentialMeta {
  readonly credentialId: string;
  readonly exchange: string;
  readonly disabled: boolean;
}

/** The vault operations trading uses (keywarden's `Vault` satisfies it). */
export interface TradingVault {
  /** Opens one credential set for one callback; fields are Secrets, wiped afterwards. */
  withCredentials<T>(
    identity: Identity,
    credentialId: string,
    fn: (creds: Readonly<Record<string, Secret>>) => Promise<T>,
    options?: { action?: string },
  ): Promise<T>;
  /** The caller's own credential sets (metadata only). */
  list(identity: Identity): Promise<readonly TradingCredentialMeta[]>;
  /**
   * One of the caller's credential sets with its stored owner, or undefined (the vault's
   * `describeCredential`). Optional: without it, the client finds the set in {@link list}.
   */
  describeCredential?(
    identity: Identity,
    credentialId: string,
  ): Promise<(TradingCredentialMeta & { readonly userId: string }) | undefined>;
  /**
   * A live grant of `userId` covering `need` (the vault's `findGrant`), looked up by `caller` (an
   * operator, or an identity acting for that user), so the kill switch can cancel while the user
   * is logged out. Optional: without it, only the user's own session or grant can cancel.
   */
  findGrant?(
    caller: Identity,
    userId: string,
    need: { exchange: string; action: string },
  ): Promise<Identity | undefined>;
}

/** The audit operations trading uses (keywarden's `AuditLog` satisfies it). */
export interface TradingAudit {
  appendEntry(
    chainId: string,
    input: {
      action: string;
      payload: unknown;
      actor?: Identity | undefined;
      idempotencyKey?: string | undefined;
    },
  ): Promise<{ readonly seq: number }>;
  readEntries(
    chainId: string,
    from?: number,
    to?: number,
  ): AsyncIterable<{
    readonly seq: number;
    readonly body: string;
    readonly payload: string | null;
  }>;
}
