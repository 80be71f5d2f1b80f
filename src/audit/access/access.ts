/**
 * Who may read which chain. A user's chain is readable only by that user (a verified session or a
 * host-asserted identity for that user); the operator chain only by operators. Operators do not
 * read users' chains through these handlers, and a refusal looks exactly like a missing chain.
 *
 * @packageDocumentation
 */
import { KeywardenError, NOT_FOUND_MESSAGE } from "../../errors.js";
import { requireIdentity } from "../../guard/context.js";
import type { Identity } from "../../guard/identity.js";
import type { AuditLog } from "../core/index.js";
import type { VerifyResult } from "../core/portable.js";
import { chainOwner } from "../core/portable.js";
import { type ExportChainOptions, exportChain } from "../export/index.js";
import type { StoredEntry } from "../storage/index.js";

/**
 * Throws unless `identity` may read `chainId`.
 *
 * @throws {KeywardenError} `ERR_GUARD_NOT_FOUND` (fixed message; not-yours and not-found look the same).
 *
 * @example
 * ```ts
 * assertMayReadChain(requireIdentity(), "user:alice");
 * ```
 */
export function assertMayReadChain(identity: Identity, chainId: string): void {
  const owner = chainOwner(chainId);
  /* Precondition: a user's chain is read only by that user's session or host identity. */
  const allowed =
    owner.kind === "operator"
      ? identity.kind === "operator"
      : (identity.kind === "session" || identity.kind === "host") &&
        identity.userId === owner.userId;
  if (!allowed) throw new KeywardenError("ERR_GUARD_NOT_FOUND", NOT_FOUND_MESSAGE);
}

/**
 * Handler: the current identity reads entries of `chainId`.
 *
 * @example
 * ```ts
 * await runAs(session, async () => { for await (const e of readChainEntries(log, "user:user-42")) show(e); });
 * ```
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED`, `ERR_GUARD_NOT_FOUND`.
 */
export function readChainEntries(
  log: AuditLog,
  chainId: string,
  from = 0,
  to?: number,
): AsyncIterable<StoredEntry> {
  // Checked eagerly, in the caller's identity context, before anything is read.
  assertMayReadChain(requireIdentity(), chainId);
  return log.readEntries(chainId, from, to);
}

/**
 * Handler: the current identity exports `chainId` (see {@link exportChain}).
 *
 * @example
 * ```ts
 * const chunks = await runAs(session, () => exportChainFor(log, "user:user-42", { format: "jsonl" }));
 * ```
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED`, `ERR_GUARD_NOT_FOUND`, export errors.
 */
export function exportChainFor(
  log: AuditLog,
  chainId: string,
  options: ExportChainOptions,
): AsyncGenerator<string> {
  // Checked eagerly, in the caller's identity context, before any chunk is produced.
  assertMayReadChain(requireIdentity(), chainId);
  return exportChain(log, chainId, options);
}

/**
 * Handler: the current identity verifies `chainId` from the store.
 *
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED`, `ERR_GUARD_NOT_FOUND`.
 *
 * @example
 * ```ts
 * const result = await runAs(session, () => verifyChainFor(log, "user:alice"));
 * ```
 */
export async function verifyChainFor(log: AuditLog, chainId: string): Promise<VerifyResult> {
  assertMayReadChain(requireIdentity(), chainId);
  return log.verifyChain(chainId);
}
