/**
 * The JSON Lines file adapter (the embedded default): one append-only file per chain, an exclusive
 * lock file per writer, crash recovery by scanning for the last complete line. May import the
 * storage contract, primitives and the foundation.
 *
 * @packageDocumentation
 */
export * from "./lines.js";
export * from "./lock.js";
export * from "./scan.js";
export * from "./store.js";
