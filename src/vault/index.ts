/**
 * `keywarden/vault`: users' exchange credentials sealed under per-user data keys wrapped by a KMS,
 * opened only for a verified session or a live trading grant, only for one callback.
 *
 * Bindings with heavy dependencies live in their own subpaths: `keywarden/vault/aws-kms`,
 * `keywarden/vault/sqlite`, `keywarden/vault/postgres`.
 *
 * @packageDocumentation
 */
export { UNAUTHORIZED_MESSAGE } from "./authorization.js";
export type { CredentialInput, CredentialSecrets } from "./credential-fields.js";
export type { DataKeyCacheOptions } from "./data-key-cache.js";
export { emergencyVaultOps, type VaultEmergencyOps } from "./emergency.js";
export { FileCredentialStore } from "./file-store.js";
export { FORMAT_VERSION } from "./format.js";
export type { GrantOptions, GrantSummary } from "./grants.js";
export { type VaultHandlers, vaultHandlers } from "./handlers.js";
export type {
  GeneratedDataKey,
  KmsAuthorization,
  KmsContext,
  KmsProvider,
  KmsPurpose,
} from "./kms-provider.js";
export { createMasterKeyFile, LocalKms } from "./local-kms.js";
export type { LockStatus } from "./locks.js";
export type { RevisionWitness } from "./manifest.js";
export { MemoryCredentialStore } from "./memory-store.js";
export { buildKeyPolicy, buildTrustPolicy, type PolicyOptions } from "./policy.js";
export type {
  CredentialRow,
  CredentialStore,
  GrantRow,
  OwnerScopedStore,
  StoreCommit,
  UserKeyRow,
  UserLockRow,
} from "./store.js";
export {
  type CredentialMetadata,
  createVault,
  type OpenOptions,
  type StoreCredentialInput,
  Vault,
  type VaultOptions,
} from "./vault.js";
export type { VaultAuditSink } from "./vault-support.js";
