/**
 * The public transparency API of `keywarden/audit`: RFC 9162 Merkle proofs, C2SP signed
 * checkpoints, witness cosignatures, receipts, the log side (tree nodes on append, consistent
 * checkpoint signing, publishing) and the user side (truncation and rewrite detection).
 * `src/audit/index.ts` re-exports this file; `transparency-verify.ts` is the browser-safe subset.
 *
 * @packageDocumentation
 */

export { LocalEd25519Signer, SIGNING_KEY_ENV, type Signer, writeSignerKeyFile } from "./signer.js";
export { createKmsEd25519Signer, type KmsSigningClientLike } from "./transparency-kms.js";
export {
  type SignedCheckpoint,
  storeNodeReader,
  TransparencyLog,
  type TransparencyLogOptions,
} from "./transparency-log.js";
export {
  CheckpointPublisher,
  type CheckpointPublisherOptions,
  type PublishError,
  type UserDelivery,
} from "./transparency-publisher.js";
export {
  type CheckpointSink,
  callbackCheckpointSink,
  fileCheckpointSink,
  type HttpSinkOptions,
  httpCheckpointSink,
  type PublishedCheckpoint,
} from "./transparency-sinks.js";
export {
  fileWitnessState,
  readMonitorRecord,
  writeMonitorRecord,
} from "./transparency-state-file.js";
export { type ChainTreeReader, entryTreeReader } from "./transparency-tree-fallback.js";
export * from "./transparency-verify.js";
export {
  type Cosigner,
  createCosigner,
  MemoryWitnessState,
  type WitnessRecord,
  type WitnessResult,
  type WitnessStateStore,
  witnessCheckpoint,
} from "./witness.js";
