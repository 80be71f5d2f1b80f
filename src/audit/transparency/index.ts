/**
 * Publication of chain heads: the RFC 9162 Merkle tree and proofs, C2SP signed notes and
 * checkpoints, signers (local Ed25519, KMS), witnesses and cosignatures, receipts, the transparency
 * log and its publisher and sinks, the monitor and its state files, and the browser-safe verifier
 * (`keywarden/audit/verify`); in folders of their own, C2SP tlog-tiles publication and reading
 * (tiles/), the operator-wide heads log (heads/) and the tlog-witness protocol (witnessing/). May
 * import primitives, the storage contract and the foundation; never
 * the chain core, export or access.
 *
 * @packageDocumentation
 */
export * from "./checkpoint.js";
export * from "./heads/index.js";
export * from "./kms-signer.js";
export * from "./log.js";
export * from "./merkle.js";
export * from "./monitor.js";
export * from "./note.js";
export * from "./publisher.js";
export * from "./receipt.js";
export * from "./signer.js";
export * from "./sinks.js";
export * from "./state-file.js";
export * from "./tiles/index.js";
export * from "./tree-fallback.js";
export * from "./verify.js";
export * from "./witness.js";
export * from "./witnessing/index.js";
