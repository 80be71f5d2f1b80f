/**
 * The heads log: one operator-wide RFC 9162 log of every published chain checkpoint (leaf encoding
 * and chain keys, batched integration over tlog-tiles, heads receipts, their verification with a
 * k-of-n witness policy, and the user's fork-detecting state). A sub-room of transparency: may
 * import its parent room's files and the tiles sub-room directly, the primitives room through its
 * door, and the foundation.
 *
 * @packageDocumentation
 */
export * from "./check.js";
export * from "./leaf.js";
export * from "./log.js";
export * from "./state.js";
export * from "./verify.js";
