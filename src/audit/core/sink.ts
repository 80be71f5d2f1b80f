import { currentIdentity } from "../../guard/context.js";
import type { Identity } from "../../guard/identity.js";
import type { AuditLog } from "./log.js";

/**
 * The small recording interface other modules take (the vault's `VaultAuditSink`, the onboarding
 * gate's `audit`): `append(chain, action, payload)`, where `chain` is `user:<id>` or `operator`.
 */
export interface AuditSink {
  append(chain: string, action: string, payload: unknown, actor?: Identity): Promise<unknown>;
}

/**
 * Adapts an {@link AuditLog} to {@link AuditSink}, so the vault and the onboarding gate record
 * into the same hash-chained log. The actor is the one passed, else the identity of the current
 * context (`runAs`); without either the append is refused, because every entry names who acted.
 *
 * @example
 * ```ts
 * const log = new AuditLog({ store });
 * const vault = createVault({ kms, store: credentials, audit: auditSink(log) });
 * ```
 */
export function auditSink(log: AuditLog): AuditSink {
  return {
    append: (chain, action, payload, actor) =>
      log.appendEntry(chain, { action, payload, actor: actor ?? currentIdentity() }),
  };
}
