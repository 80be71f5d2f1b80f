/**
 * `keywarden/audit`: a tamper-evident, hash-chained audit log of everything the library does on a
 * user's exchange account, exportable and verifiable by the user without trusting the operator.
 * Format: docs/audit-format.md.
 *
 * @packageDocumentation
 */
export {
  type AuditHandlers,
  assertMayReadChain,
  auditHandlers,
  exportChainFor,
  readChainEntries,
  verifyChainFor,
} from "./access/index.js";
export {
  ActionCatalog,
  type ActionChainKind,
  type AppendEntryInput,
  type AppendedEntry,
  type AuditActionDefinition,
  AuditLog,
  type AuditLogOptions,
  type AuditSink,
  auditSink,
  OPERATOR_ACTIONS,
  type OperatorAction,
  type TreeNodeBuilder,
  USER_ACTIONS,
  type UserAction,
} from "./core/index.js";
export {
  AUDIT_FORMAT_VERSION,
  type AuditActor,
  type AuditEntry,
  assertChainId,
  assertChainValid,
  ChainVerifier,
  chainOwner,
  commitPayload,
  decodeEntry,
  encodeEntry,
  entryHash,
  GENESIS_PREV_HASH,
  isChainId,
  OPERATOR_CHAIN_ID,
  type PayloadOpening,
  parseOpening,
  payloadCommitment,
  userChainId,
  type VerifyBroken,
  type VerifyFailureReason,
  type VerifyItem,
  type VerifyOptions,
  type VerifyResult,
  type VerifyValid,
  verifyEntries,
} from "./core/portable.js";
export type { ExportRecord } from "./export/index.js";
export {
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportChainOptions,
  type ExportFailureReason,
  type ExportFormat,
  type ExportManifest,
  exportChain,
  importExport,
  MANIFEST_SIGNATURE_HEADER,
  MAX_LINE_BYTES,
  type ManifestSignaturePolicy,
  manifestSignatureProblem,
  manifestSignedText,
  neutralizeCell,
  type ReadExportOptions,
  readExport,
  signManifest,
  type VerifyExportBroken,
  type VerifyExportOptions,
  type VerifyExportResult,
  verifyExport,
} from "./export/index.js";
export { type Sha256, sha256Node } from "./primitives/index.js";
export { sha256Portable } from "./primitives/portable.js";
export { type FileAuditStoreOptions, openFileAuditStore } from "./storage/file/index.js";
export type {
  AppendRequest,
  AppendResult,
  AuditStore,
  AuditStoreCapabilities,
  ChainHead,
  HexHash,
  StoredCheckpoint,
  StoredEntry,
  TreeNode,
  TreeNodeKey,
} from "./storage/index.js";
export { createMemoryAuditStore } from "./storage/index.js";
export {
  type CheckpointSink,
  callbackCheckpointSink,
  fileCheckpointSink,
  fileWitnessState,
  type HttpSinkOptions,
  httpCheckpointSink,
  LocalEd25519Signer,
  type PublishedCheckpoint,
  readMonitorRecord,
  SIGNING_KEY_ENV,
  type Signer,
  writeMonitorRecord,
  writeSignerKeyFile,
} from "./transparency/index.js";
export {
  type ChainTreeReader,
  CheckpointPublisher,
  type CheckpointPublisherOptions,
  type Cosigner,
  createCosigner,
  createKmsEd25519Signer,
  entryTreeReader,
  type KmsSigningClientLike,
  MemoryWitnessState,
  type PublishError,
  type SignedCheckpoint,
  storeNodeReader,
  TransparencyLog,
  type TransparencyLogOptions,
  type UserDelivery,
  type WitnessRecord,
  type WitnessResult,
  type WitnessStateStore,
  witnessCheckpoint,
} from "./transparency/portable.js";
export * from "./transparency/verify.js";
