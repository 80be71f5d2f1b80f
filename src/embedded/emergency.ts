import { join } from "node:path";
import { AuditLog, auditSink } from "../audit/core/index.js";
import { openFileAuditStore } from "../audit/storage/file/index.js";
import type { AuditStore } from "../audit/storage/index.js";
import { KeywardenError } from "../errors.js";
import { runAs } from "../guard/context.js";
import { operatorIdentity } from "../guard/identity.js";
import {
  type EmergencyReport,
  emergencyRevokeAll,
  type RotateKeysNotice,
} from "../trading/emergency.js";
import { createFileTradingState } from "../trading/state.js";
import { createVault, emergencyVaultOps } from "../vault/core/index.js";
import type { KmsProvider } from "../vault/kms/index.js";
import { FileCredentialStore } from "../vault/stores/index.js";

/**
 * A KMS that refuses every call. Emergency revocation runs with it, so it provably decrypts
 * nothing: it needs no master key, and works while the KMS itself is the suspect.
 */
const refusingKms: KmsProvider = {
  name: "none",
  async generateDataKey() {
    throw new KeywardenError("ERR_KMS_ACCESS_DENIED", "emergency revocation uses no KMS");
  },
  async decrypt() {
    throw new KeywardenError("ERR_KMS_ACCESS_DENIED", "emergency revocation uses no KMS");
  },
  async reEncrypt() {
    throw new KeywardenError("ERR_KMS_ACCESS_DENIED", "emergency revocation uses no KMS");
  },
};

/**
 * Emergency revocation over an embedded keywarden data directory (the layout `openKeywarden`
 * creates): fires every user's kill switch, locks every user's credentials, revokes every grant,
 * records it on each user's chain and the operator chain, and hands one `rotate-keys` notice per
 * user to `notify`. It opens no master key and makes no KMS call. `options.auditStore` replaces the
 * data directory's audit file (a deployment whose audit chains live in another store); the caller
 * keeps it open and closes it.
 *
 * @example
 * ```ts
 * const report = await emergencyRevokeEmbedded("/var/lib/mybot/keywarden", "backup leaked", "ops-alice",
 *   (n) => mailer.send(n.userId, "Rotate your exchange API keys now"));
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_LOCKED` while a running service holds the audit log
 * (stop it first: emergency revocation must not race live orders); `ERR_INVALID_ARGUMENT` for an
 * invalid operator id or reason.
 */
export async function emergencyRevokeEmbedded(
  dataDir: string,
  reason: string,
  operatorId: string,
  notify?: (notice: RotateKeysNotice) => void | Promise<void>,
  options: { readonly auditStore?: AuditStore | undefined } = {},
): Promise<EmergencyReport> {
  const operator = operatorIdentity(operatorId);
  const own = options.auditStore === undefined;
  const auditStore = options.auditStore ?? (await openFileAuditStore(join(dataDir, "audit.jsonl")));
  try {
    const audit = new AuditLog({ store: auditStore });
    const vault = createVault({
      kms: refusingKms,
      store: await FileCredentialStore.open(join(dataDir, "credentials")),
      audit: auditSink(audit),
    });
    return await runAs(operator, () =>
      emergencyRevokeAll(reason, {
        state: createFileTradingState(join(dataDir, "killswitch")),
        audit,
        vault: emergencyVaultOps(vault),
        ...(notify ? { notify } : {}),
      }),
    );
  } finally {
    if (own) await auditStore.close?.();
  }
}
