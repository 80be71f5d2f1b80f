/**
 * `keywarden/vault`: users' exchange credentials sealed under per-user data keys wrapped by a KMS,
 * opened only for a verified session or a live trading grant, only for one callback.
 *
 * Bindings with heavy dependencies live in their own subpaths: `keywarden/vault/aws-kms`,
 * `keywarden/vault/sqlite`, `keywarden/vault/postgres`.
 *
 * @packageDocumentation
 */

export type {
  CredentialInput,
  CredentialSecrets,
  GrantOptions,
  GrantSummary,
  LockStatus,
  VaultAuditSink,
} from "./core/index.js";
export {
  type CredentialMetadata,
  createVault,
  emergencyVaultOps,
  type OpenOptions,
  type StoreCredentialInput,
  UNAUTHORIZED_MESSAGE,
  Vault,
  type VaultEmergencyOps,
  type VaultHandlers,
  type VaultOptions,
  vaultHandlers,
} from "./core/index.js";
export type { RevisionWitness } from "./format/index.js";
export { FORMAT_VERSION } from "./format/index.js";
export type {
  DataKeyCacheOptions,
  GeneratedDataKey,
  KmsAuthorization,
  KmsContext,
  KmsProvider,
  KmsPurpose,
} from "./kms/index.js";
export {
  buildKeyPolicy,
  buildTrustPolicy,
  createMasterKeyFile,
  LocalKms,
  type PolicyOptions,
} from "./kms/index.js";
export type {
  CredentialRow,
  CredentialStore,
  GrantRow,
  OwnerScopedStore,
  StoreCommit,
  UserKeyRow,
  UserLockRow,
} from "./stores/index.js";
export { FileCredentialStore, MemoryCredentialStore } from "./stores/index.js";
