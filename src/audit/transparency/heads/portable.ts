/**
 * The browser-safe part of the heads sub-room (see index.ts): leaf encoding, verification, state.
 *
 * @packageDocumentation
 */
export * from "./check.js";
export * from "./leaf.js";
export * from "./state.js";
export * from "./verify.js";
