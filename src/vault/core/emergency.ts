/**
 * The vault's side of an operator's emergency revocation (`keywarden/trading`'s
 * `emergencyRevokeAll`): list users, lock each one, revoke their grants — all without a key.
 *
 * @packageDocumentation
 */
import type { Identity } from "../../guard/identity.js";
import type { Vault } from "./vault.js";

/**
 * The operator-level vault operations emergency revocation needs; none of them decrypts.
 * Structurally the `EmergencyVault` of `keywarden/trading`.
 */
export interface VaultEmergencyOps {
  /** Every user with stored rows ({@link Vault.listUserIds}). */
  listUserIds(operator: Identity): Promise<readonly string[]>;
  /**
   * Blocks every credential of `userId` until the user re-authorizes: an emergency lock
   * ({@link Vault.lockUser}); returns how many enabled credential sets it newly blocked.
   */
  disableAllCredentials(operator: Identity, userId: string, reason: string): Promise<number>;
  /** Revokes every not-yet-revoked grant of `userId` ({@link Vault.revokeAllGrants}). */
  revokeAllGrants(operator: Identity, userId: string, reason: string): Promise<number>;
}

/**
 * Adapts a {@link Vault} to the operations `emergencyRevokeAll` calls. "Disable all credentials"
 * is the key-free emergency lock: the credentials' sealed state is not touched (that needs the
 * user's data key); instead every open is refused before any KMS call until the user's own live
 * session calls {@link Vault.unlock}.
 *
 * @example
 * ```ts
 * import { emergencyVaultOps } from "keywarden/vault";
 * import { emergencyRevokeAll } from "keywarden/trading";
 * await runAs(operatorIdentity("ops-1"), () =>
 *   emergencyRevokeAll("key store exposed", { state, audit: log, vault: emergencyVaultOps(vault) }));
 * ```
 * @throws never itself; each operation throws what the vault method throws
 * (`ERR_VAULT_UNAUTHORIZED` unless an operator identity).
 */
export function emergencyVaultOps(vault: Vault): VaultEmergencyOps {
  return Object.freeze({
    listUserIds: (operator: Identity) => vault.listUserIds(operator),
    disableAllCredentials: (operator: Identity, userId: string, reason: string) =>
      vault.lockUser(operator, userId, reason),
    revokeAllGrants: (operator: Identity, userId: string, reason: string) =>
      vault.revokeAllGrants(operator, userId, reason),
  });
}
