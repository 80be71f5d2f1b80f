/**
 * The audit module's primitives: lowercase hex, byte and base64 helpers, SHA-256 (node:crypto in
 * sha256.ts, @noble/hashes in sha256-portable.ts) and the fast canonical-JSON writer. Owns no format
 * of its own. May import only the package foundation (errors, canonical); every other audit room
 * builds on it.
 *
 * @packageDocumentation
 */
export * from "./bytes.js";
export * from "./fast-json.js";
export * from "./hex.js";
export * from "./sha256.js";
export * from "./sha256-portable.js";
