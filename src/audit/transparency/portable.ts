/**
 * The browser-safe part of this room (no Node built-in or heavy dependency is reachable from it),
 * for the offline verifier page and `keywarden/audit/verify`. See index.ts for what the room owns.
 *
 * @packageDocumentation
 */
export * from "./checkpoint.js";
export * from "./heads/portable.js";
export * from "./kms-signer.js";
export * from "./log.js";
export * from "./merkle.js";
export * from "./monitor.js";
export * from "./note.js";
export * from "./publisher.js";
export * from "./receipt.js";
export * from "./tiles/portable.js";
export * from "./tree-fallback.js";
export * from "./verify.js";
export * from "./witness.js";
export * from "./witnessing/portable.js";
