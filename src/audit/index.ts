/**
 * `keywarden/audit`: a tamper-evident, hash-chained audit log of everything the library does on a
 * user's exchange account, exportable and verifiable by the user without trusting the operator.
 * Format: docs/audit-format.md.
 *
 * @packageDocumentation
 */
export { assertMayReadChain, exportChainFor, readChainEntries, verifyChainFor } from "./access.js";
export {
  ActionCatalog,
  type ActionChainKind,
  type AuditActionDefinition,
  OPERATOR_ACTIONS,
  type OperatorAction,
  USER_ACTIONS,
  type UserAction,
} from "./actions.js";
export {
  commitPayload,
  type PayloadOpening,
  parseOpening,
  payloadCommitment,
} from "./commitment.js";
export { CSV_COLUMNS, neutralizeCell } from "./csv.js";
export {
  AUDIT_FORMAT_VERSION,
  type AuditActor,
  type AuditEntry,
  assertChainId,
  chainOwner,
  decodeEntry,
  encodeEntry,
  entryHash,
  GENESIS_PREV_HASH,
  isChainId,
  OPERATOR_CHAIN_ID,
  userChainId,
} from "./entry.js";
export { type ExportChainOptions, exportChain, importExport } from "./export.js";
export {
  type ExportFailureReason,
  type ExportFormat,
  type ReadExportOptions,
  readExport,
  type VerifyExportBroken,
  type VerifyExportOptions,
  type VerifyExportResult,
  verifyExport,
} from "./export-reader.js";
export { type FileAuditStoreOptions, openFileAuditStore } from "./file-store.js";
export { type AuditHandlers, auditHandlers } from "./handlers.js";
export type { ExportRecord } from "./jsonl.js";
export { MAX_LINE_BYTES } from "./line-reader.js";
export {
  type AppendEntryInput,
  type AppendedEntry,
  AuditLog,
  type AuditLogOptions,
  type TreeNodeBuilder,
} from "./log.js";
export {
  EXPORT_FORMAT,
  type ExportManifest,
  MANIFEST_SIGNATURE_HEADER,
  type ManifestSignaturePolicy,
  manifestSignatureProblem,
  manifestSignedText,
  signManifest,
} from "./manifest.js";
export { createMemoryAuditStore } from "./memory-store.js";
export { type Sha256, sha256Node } from "./sha256.js";
export { sha256Portable } from "./sha256-portable.js";
export { type AuditSink, auditSink } from "./sink.js";
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
} from "./store.js";
export * from "./transparency.js";
export {
  assertChainValid,
  ChainVerifier,
  type VerifyBroken,
  type VerifyFailureReason,
  type VerifyItem,
  type VerifyOptions,
  type VerifyResult,
  type VerifyValid,
  verifyEntries,
} from "./verify.js";
