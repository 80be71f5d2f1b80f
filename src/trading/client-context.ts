/**
 * The trading client's internal context: what the order, kill-switch and reconciliation functions
 * share with the `TradingClient` facade — its ports (vault, audit, kill-switch state), the
 * instance pool, the risk lookup, the per-user lock and in-flight order set, and the three pieces
 * of glue every action goes through (`call`: credentials opened for one exchange call on a pooled
 * instance with errors scrubbed; `record`: one audit entry on the user's chain; `refuse`: a
 * refused method, audited when it moves funds). The class builds one context and delegates; the
 * context is never exported from `keywarden/trading`.
 */
import type { Identity } from "../guard/identity.js";
import type { ExchangeLike } from "./exchange-like.js";
import type { KeyedMutex } from "./lock.js";
import type { InstancePool } from "./pool.js";
import type { TradingAudit, TradingCredentialMeta, TradingVault } from "./ports.js";
import type { RiskLimits } from "./risk.js";
import type { TradingStateStore } from "./state.js";

/** A credential's metadata with the user it belongs to. */
export type Row = TradingCredentialMeta & { userId: string };

export interface ClientContext {
  readonly vault: TradingVault;
  readonly audit: TradingAudit;
  readonly state: TradingStateStore;
  readonly pool: InstancePool;
  readonly risk: (userId: string) => RiskLimits | undefined;
  readonly cancelAttempts: number;
  /** Per-user lock: the kill-switch check and the order intent happen under it. */
  readonly lock: KeyedMutex;
  /** Orders past the kill-switch check and not yet settled, per user. */
  readonly inflight: Map<string, Set<Promise<unknown>>>;
  /** Opens the credentials and runs `fn` on a pooled instance, scrubbing any exchange error. */
  call<T>(
    identity: Identity,
    row: TradingCredentialMeta,
    action: string,
    fn: (x: ExchangeLike) => Promise<T>,
  ): Promise<T>;
  /** Appends one entry to `userId`'s audit chain. */
  record(identity: Identity, userId: string, action: string, payload: unknown): Promise<void>;
  /** Throws `ERR_TRADING_METHOD_REFUSED` (auditing funds-moving names). */
  refuse(credentialId: string, method: string): Promise<never>;
}
