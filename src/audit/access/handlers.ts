import type { Identity } from "../../guard/identity.js";
import { owned } from "../../guard/owned.js";
import type { AuditLog } from "../core/index.js";
import type { VerifyResult } from "../core/portable.js";
import { chainOwner, isChainId } from "../core/portable.js";
import type { ExportChainOptions } from "../export/index.js";
import type { StoredEntry } from "../storage/index.js";
import { exportChainFor, readChainEntries, verifyChainFor } from "./access.js";

/** A user's chain, as the guard sees it. */
interface ChainRow {
  readonly chainId: string;
  readonly userId: string;
}

/** The guard-registered audit handlers of one log (see {@link auditHandlers}). */
export interface AuditHandlers {
  /** The caller's own chain entries `[from, to)`, collected (stream large chains with `readChainEntries`). */
  readChain(chainId: string, from?: number, to?: number): Promise<StoredEntry[]>;
  /** The caller's own chain as one JSON Lines or CSV export text. */
  exportChain(chainId: string, options: ExportChainOptions): Promise<string>;
  /** Verifies the caller's own chain from the store. */
  verifyChain(chainId: string): Promise<VerifyResult>;
}

/** Loads a user chain's ownership from its id; the operator chain and malformed ids are "not found". */
function loadChain(chainId: string): ChainRow | undefined {
  if (!isChainId(chainId)) return undefined;
  const owner = chainOwner(chainId);
  return owner.kind === "user" ? { chainId, userId: owner.userId } : undefined;
}

/**
 * The user-facing audit handlers, registered with the guard (`owned`, resource `"audit-chain"`)
 * so that the isolation kit covers them: each takes the caller from the context (`runAs`), loads
 * the chain's owner from its id, and refuses another user's chain exactly like a missing one.
 * Behind the guard, the audit module checks again (`assertMayReadChain`): a user's chain is
 * readable by that user's session or host identity only. The operator chain is not reachable here.
 *
 * @example
 * ```ts
 * const audit = auditHandlers(log);
 * const text = await runAs(session, () => audit.exportChain("user:alice", { format: "csv" }));
 * ```
 * @throws {KeywardenError} From each handler: `ERR_GUARD_UNAUTHENTICATED` without an identity,
 * `ERR_GUARD_NOT_FOUND` for another user's chain, the operator chain or a malformed id.
 */
export function auditHandlers(log: AuditLog): AuditHandlers {
  const policy = {
    resource: "audit-chain",
    id: (chainId: string) => chainId,
    load: (chainId: string, _identity: Identity) => loadChain(chainId),
    owner: (row: ChainRow) => row.userId,
  };
  return {
    readChain: owned<[string, number?, number?], ChainRow, Promise<StoredEntry[]>>(
      { ...policy, name: "audit.readChain" },
      async ({ row }, _chainId, from, to) => {
        const out: StoredEntry[] = [];
        for await (const e of readChainEntries(log, row.chainId, from ?? 0, to)) out.push(e);
        return out;
      },
    ),
    exportChain: owned<[string, ExportChainOptions], ChainRow, Promise<string>>(
      { ...policy, name: "audit.exportChain" },
      async ({ row }, _chainId, options) => {
        let text = "";
        for await (const chunk of exportChainFor(log, row.chainId, options)) text += chunk;
        return text;
      },
    ),
    verifyChain: owned<[string], ChainRow, Promise<VerifyResult>>(
      { ...policy, name: "audit.verifyChain" },
      ({ row }) => verifyChainFor(log, row.chainId),
    ),
  };
}
