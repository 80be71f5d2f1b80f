/**
 * The browser-safe verification subset of audit transparency (no node-only import): Merkle proof
 * verification, signed-note and checkpoint parsing/verification, witness cosignature policy,
 * receipts, and the truncation/rewrite monitor. Suitable for a `keywarden/audit/verify` entry
 * bundled into an offline verifier page.
 *
 * @packageDocumentation
 */
export {
  type Checkpoint,
  chainOrigin,
  formatCheckpoint,
  isValidOrigin,
  parseCheckpoint,
  TIME_EXTENSION,
} from "./checkpoint.js";
export {
  consistencyProof,
  EMPTY_ROOT,
  hashChildren,
  inclusionProof,
  MemoryMerkleNodes,
  MerkleFrontier,
  type MerkleNode,
  type MerkleNodeReader,
  merkleRoot,
  type NodeKey,
  rootAtSize,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.js";
export {
  checkCheckpointUpdate,
  LeafAccumulator,
  type MonitorFailure,
  type MonitorInput,
  type MonitorRecord,
  type MonitorResult,
} from "./monitor.js";
export {
  computeKeyId,
  decodeVerifierKey,
  ed25519NoteVerifier,
  formatVerifierKey,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  openNote,
  type ParsedNote,
  parseNote,
  parseVerifierKey,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  signNote,
} from "./note.js";
export {
  formatReceipt,
  leafHashOfBody,
  parseReceipt,
  RECEIPT_HEADER,
  type Receipt,
  type VerifiedReceipt,
  verifyReceipt,
} from "./receipt.js";
export {
  type CheckpointPolicy,
  type CosignatureVerifier,
  cosignatureMessage,
  cosignatureVerifier,
  type VerifiedCheckpoint,
  verifyCosignedCheckpoint,
} from "./witness.js";
