/**
 * The chain's core: the entry and its canonical encoding, the salted payload commitment, the action
 * catalog and the secret scan of payloads, chain verification, and `AuditLog` (append with group
 * commit) with the `AuditSink` adapter other modules record through. May import primitives, the
 * storage contract, the guard's identity context and the foundation; never export, transparency or
 * access.
 *
 * @packageDocumentation
 */
export * from "./actions.js";
export * from "./commitment.js";
export * from "./entry.js";
export * from "./log.js";
export * from "./secret-scan.js";
export * from "./sink.js";
export * from "./verify.js";
