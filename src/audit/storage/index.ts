/**
 * The audit store contract (store.ts: the one interface an adapter implements), the checks the core
 * runs around every adapter call (checks.ts) and the in-memory adapter. Each persistent adapter has
 * its own sub-room with its own door (file/, sqlite/, postgres/, dynamodb/). May import primitives
 * and the package foundation; never the chain core, export or transparency, so an adapter cannot
 * depend on how entries are encoded.
 *
 * @packageDocumentation
 */
export * from "./checks.js";
export * from "./memory.js";
export * from "./store.js";
